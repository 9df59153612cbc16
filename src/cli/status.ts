// `status`: reads a running orchestrator's /status endpoint and prints a table (or the JSON).
import { readFileSync } from "node:fs";
import { readConfigEnv } from "../config/env.ts";
import { parse } from "jsonc-parser/lib/esm/main.js";
import { resolveConfigPath } from "../config/paths.ts";
import { checkStatusAddress } from "../config/rules.ts";
import { DEFAULTS } from "../config/types.ts";
import type { StatusDoc } from "../manager/status.ts";
import { stdoutColors } from "../util/colors.ts";
import { EXIT, RuntimeFailure } from "../util/errors.ts";
import type { CommandContext } from "./command.ts";
import { formatSandboxStatus } from "../agent/sandbox/request.ts";
import { formatAge, renderTable } from "./table.ts";

/**
 * status_address of workers.json, when the file is there and the field is valid. Read leniently:
 * a file with a syntax error is what a running orchestrator rejected on reload while it keeps
 * listening where the last good file said, which is most likely this same address.
 */
function addressFromConfigFile(): { value: string | null; file: string } | undefined {
  const { path } = resolveConfigPath({});
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const raw = parse(text, [], { allowTrailingComma: true }) as { status_address?: unknown } | undefined;
  if (typeof raw?.status_address !== "string") return undefined;
  const r = checkStatusAddress(raw.status_address);
  return r.ok ? { value: r.value, file: path } : undefined;
}

/** Where to look, in the precedence orchestrate uses: --address > env > workers.json > default. */
function resolveAddress(flag: string | undefined): string {
  if (flag !== undefined) return flag;
  const env = readConfigEnv().statusAddress;
  const fromFile = env === undefined ? addressFromConfigFile() : undefined;
  const configured = env ?? (fromFile ? fromFile.value : DEFAULTS.statusAddress);
  const where = env !== undefined ? "OPENCODE_ORCHESTRATOR_STATUS_ADDRESS" : fromFile ? `status_address in ${fromFile.file}` : "the default";
  if (configured === null || configured.toLowerCase() === "off") {
    throw new RuntimeFailure(`the status endpoint is off (${where})`, {
      hint: "Set status_address in workers.json (e.g. \"127.0.0.1:7420\") and restart orchestrate, or pass --address host:port.",
    });
  }
  if (/:0$/.test(configured)) {
    throw new RuntimeFailure(`${where} uses port 0, so the port is chosen at start`, {
      hint: "Pass --address with the address orchestrate logged (\"status on http://…/status\").",
    });
  }
  // A wildcard bind is reached through loopback.
  return configured.replace(/^0\.0\.0\.0:/, "127.0.0.1:").replace(/^\[::\]:/, "[::1]:");
}

export async function run(ctx: CommandContext): Promise<number> {
  const address = resolveAddress(typeof ctx.flags.address === "string" ? ctx.flags.address : undefined);
  const url = `http://${address}/status`;
  let doc: StatusDoc;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    doc = (await res.json()) as StatusDoc;
    if (!doc || !Array.isArray(doc.workers)) throw new Error("the answer is not an orchestrator status document");
  } catch (e) {
    throw new RuntimeFailure(`no orchestrator answered at ${url} (${describeFetchError(e)})`, {
      hint: "Is `opencode-orchestrator orchestrate` running? Pass --address host:port if it uses another status_address.",
    });
  }
  if (ctx.flags.json) {
    ctx.stdout(JSON.stringify(doc, null, 2));
    return EXIT.ok;
  }
  const c = stdoutColors();
  const now = Date.now();
  const stateColor = (s: string) =>
    s === "ready" || s === "busy" ? c.ok(s) : s === "errored" || s === "needs_reauth" ? c.error(s) : s === "awaiting_approval" || s === "draining" || s === "paused" ? c.warn(s) : s;
  ctx.stdout(
    `orchestrator ${doc.version} (pid ${doc.pid}), up ${formatAge(doc.uptimeSeconds * 1000)}, config ${doc.config}` +
      (doc.shuttingDown ? c.warn(" — shutting down") : ""),
  );
  if (doc.lastReload) {
    ctx.stdout(
      `last reload ${doc.lastReload.at}: ${doc.lastReload.ok ? c.ok("applied") : c.error("rejected")}` +
        (doc.lastReload.errors?.length ? ` — ${doc.lastReload.errors.join("; ")}` : ""),
    );
  }
  const rows = doc.workers.map((w) => [
    w.name,
    stateColor(w.state),
    formatAge(now - Date.parse(w.since)),
    w.backendConnected ? "yes" : "no",
    w.lastHeartbeatAgeSeconds === null ? "never" : `${formatAge(w.lastHeartbeatAgeSeconds * 1000)} ago`,
    String(w.turnsRunning),
    String(w.turnsQueued),
    `${w.turns.completed}/${w.turns.failed}/${w.turns.cancelled}/${w.turns.interrupted}`,
    w.nextRestartAt === null ? String(w.restarts) : `${w.restarts} (next in ${formatAge(Math.max(0, Date.parse(w.nextRestartAt) - now))})`,
    w.opencodePid === null ? "-" : String(w.opencodePid),
    formatSandboxStatus(w.sandbox),
    detail(w),
  ]);
  ctx.stdout(
    renderTable(
      ["WORKER", "STATE", "FOR", "BACKEND", "HEARTBEAT", "RUNNING", "QUEUED", "DONE/FAIL/CANC/INT", "RESTARTS", "OPENCODE", "SANDBOX", "DETAIL"],
      rows,
      { headerStyle: c.bold },
    ),
  );
  return EXIT.ok;
}

/** The last error; for a worker waiting for approval, the command that approves it. */
function detail(w: StatusDoc["workers"][number]): string {
  if (w.state === "awaiting_approval") return `approve it: opencode-orchestrator admin approve ${w.workerId}`;
  return w.lastError ?? "";
}

/** fetch's errors are terse ("fetch failed"); the cause says what happened (ECONNREFUSED, …). */
function describeFetchError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e.name === "TimeoutError") return "no answer within 5 s";
  const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
  const code = (e as NodeJS.ErrnoException).code ?? cause?.code;
  if (code === "ECONNREFUSED") return "connection refused: nothing listens there";
  if (cause?.message) return cause.message;
  if (code) return code;
  return e.message;
}
