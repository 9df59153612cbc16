// `status`: reads a running orchestrator's /status endpoint and prints a table (or the JSON).
import { resolve } from "node:path";
import { resolveConfigPath } from "../config/paths.ts";
import { statusAddressForClient } from "../config/status-address.ts";
import type { StatusDoc } from "../manager/status.ts";
import { stdoutColors } from "../util/colors.ts";
import { EXIT, RuntimeFailure } from "../util/errors.ts";
import { safeJson, safeLine } from "../util/terminal-text.ts";
import type { CommandContext } from "./command-spec.ts";
import { formatSandboxStatus } from "../agent/sandbox/request.ts";
import { dollars } from "../worker/budget-usage.ts";
import { formatAge, renderTable, tagSuffix } from "./table.ts";

/** Where to look, in the precedence orchestrate uses (config/status-address.ts). */
async function resolveAddress(flag: string | undefined): Promise<string> {
  const { value: configured, where } = await statusAddressForClient({ flag });
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
  const address = await resolveAddress(typeof ctx.flags.address === "string" ? ctx.flags.address : undefined);
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
  if (typeof ctx.flags.address !== "string") warnIfAnotherInstance(ctx, doc, address);
  if (ctx.flags.json) {
    ctx.stdout(safeJson(doc, 2));
    return EXIT.ok;
  }
  const c = stdoutColors();
  const now = Date.now();
  const stateColor = (s: string) =>
    s === "ready" || s === "busy" ? c.ok(s) : s === "errored" || s === "needs_reauth" ? c.error(s) : s === "awaiting_approval" || s === "draining" || s === "paused" ? c.warn(s) : safeLine(s);
  ctx.stdout(
    // Whatever answers on the status address wrote this document: every string in it is foreign text.
    `orchestrator ${safeLine(String(doc.version))} (pid ${safeLine(String(doc.pid))}), up ${formatAge(doc.uptimeSeconds * 1000)}, config ${safeLine(String(doc.config))}` +
      (doc.shuttingDown ? c.warn(" — shutting down") : ""),
  );
  if (doc.lastReload) {
    ctx.stdout(
      `last reload ${safeLine(String(doc.lastReload.at))}: ${doc.lastReload.ok ? c.ok("applied") : c.error("rejected")}` +
        (doc.lastReload.errors?.length ? ` — ${safeLine(doc.lastReload.errors.join("; "))}` : ""),
    );
  }
  const rows = doc.workers.map((w) => [
    safeLine(String(w.name)) + tagSuffix(w.tags),
    stateColor(w.state),
    formatAge(now - Date.parse(w.since)),
    w.backendConnected ? "yes" : "no",
    w.lastHeartbeatAgeSeconds === null ? "never" : `${formatAge(w.lastHeartbeatAgeSeconds * 1000)} ago`,
    String(w.turnsRunning),
    String(w.turnsQueued),
    `${w.turns.completed}/${w.turns.failed}/${w.turns.cancelled}/${w.turns.interrupted}`,
    ...usageCells(w),
    w.nextRestartAt === null ? String(w.restarts) : `${w.restarts} (next in ${formatAge(Math.max(0, Date.parse(w.nextRestartAt) - now))})`,
    w.opencodePid === null ? "-" : safeLine(String(w.opencodePid)),
    formatSandboxStatus(w.sandbox),
    safeLine(detail(w)),
  ]);
  ctx.stdout(
    renderTable(
      ["WORKER", "STATE", "FOR", "BACKEND", "HEARTBEAT", "RUNNING", "QUEUED", "DONE/FAIL/CANC/INT", "TOKENS", "COST TODAY/ALL", "RESTARTS", "OPENCODE", "SANDBOX", "DETAIL"],
      rows,
      { headerStyle: c.bold },
    ),
  );
  return EXIT.ok;
}

/**
 * The address came from the config (or its default), so the orchestrator of that config is the
 * one meant. One that started while the address was taken runs without a status endpoint, and
 * what answers is another instance: say so instead of passing its workers off as these.
 */
function warnIfAnotherInstance(ctx: CommandContext, doc: StatusDoc, address: string): void {
  const expected = resolveConfigPath({}).path;
  if (typeof doc.config !== "string" || resolve(doc.config) === resolve(expected)) return;
  ctx.stderr(
    `warning: the orchestrator at ${address} runs ${safeLine(doc.config)}, not ${expected}. ` +
      `If an orchestrator of ${expected} is running, its status_address was taken when it started, so it serves no status ` +
      "(its log says so): give it another status_address, or pass --address to read this one on purpose.",
  );
}

/** Tokens used since start (all kinds) and cost today (UTC day) / since start; "-" for a document without them. */
function usageCells(w: StatusDoc["workers"][number]): [string, string] {
  const u = w.usage;
  if (!u || typeof u.total?.cost !== "number" || typeof u.today?.cost !== "number") return ["-", "-"];
  const t = u.total;
  const tokens = [t.input, t.output, t.reasoning, t.cacheRead, t.cacheWrite].reduce((a, n) => a + (Number.isFinite(n) ? n : 0), 0);
  return [compactCount(tokens), `${dollars(u.today.cost)}/${dollars(t.cost)}`];
}

function compactCount(n: number): string {
  if (n < 1_000) return String(n);
  if (n < 1_000_000) return `${(n / 1_000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
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
