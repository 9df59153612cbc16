// The local status endpoint: /healthz, /status (JSON) and /metrics (Prometheus). Loopback
// by default; it serves only the status document, which holds no token or secret.
import { createServer } from "node:http";
import type { Logger } from "../util/log.ts";
import { RuntimeFailure } from "../util/errors.ts";
import { redact } from "../util/redact.ts";
import { renderMetrics } from "./metrics.ts";
import type { StatusDoc } from "./status.ts";

export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address);
  if (!m) throw new RuntimeFailure(`status address "${address}" is not host:port`);
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

/** Reasons the orchestrator is unhealthy: shutting down, or a worker errored / needing a token. */
export function healthProblems(s: StatusDoc): string[] {
  const problems: string[] = [];
  if (s.shuttingDown) problems.push("shutting down");
  for (const w of s.workers) {
    if (w.state === "errored" || w.state === "needs_reauth") problems.push(`${w.name}: ${w.state}${w.lastError ? ` — ${w.lastError}` : ""}`);
  }
  return problems;
}

export async function startStatusServer(o: {
  address: string;
  status: () => StatusDoc;
  log: Logger;
}): Promise<{ address: string; stop(): Promise<void> }> {
  const { host, port } = parseAddress(o.address);
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (code: number, type: string, body: string) => {
      // Defence in depth: the document has no secrets, but nothing leaves unredacted.
      const text = redact(body);
      res.writeHead(code, { "content-type": type, "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
      res.end(req.method === "HEAD" ? undefined : text);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "method not allowed\n");
    const doc = o.status();
    switch (path) {
      case "/healthz": {
        const problems = healthProblems(doc);
        return send(problems.length ? 503 : 200, "application/json", JSON.stringify({ ok: problems.length === 0, problems }) + "\n");
      }
      case "/status":
        return send(200, "application/json", JSON.stringify(doc, null, 2) + "\n");
      case "/metrics":
        return send(200, "text/plain; version=0.0.4", renderMetrics(doc));
      default:
        return send(404, "text/plain", "not found: try /healthz, /status or /metrics\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        new RuntimeFailure(
          e.code === "EADDRINUSE" ? `status address ${o.address} is already in use` : `cannot listen on ${o.address}: ${e.message}`,
          { hint: "Set status_address in workers.json or pass --status-address (\"off\" disables it)." },
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const actual = addr && typeof addr === "object" ? `${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}` : o.address;
  let stopped: Promise<void> | null = null;
  return {
    address: actual,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      })),
  };
}
