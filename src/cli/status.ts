// `status`: reads a running orchestrator's /status endpoint and prints a table (or the JSON).
import { readConfigEnv } from "../config/env.ts";
import { DEFAULTS } from "../config/types.ts";
import type { StatusDoc } from "../manager/status.ts";
import { stdoutColors } from "../util/colors.ts";
import { EXIT, RuntimeFailure } from "../util/errors.ts";
import type { CommandContext } from "./command.ts";
import { formatAge, renderTable } from "./table.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const flag = typeof ctx.flags.address === "string" ? ctx.flags.address : undefined;
  const address = flag ?? readConfigEnv().statusAddress ?? DEFAULTS.statusAddress;
  const url = `http://${address}/status`;
  let doc: StatusDoc;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    doc = (await res.json()) as StatusDoc;
  } catch (e) {
    throw new RuntimeFailure(`no orchestrator answered at ${url} (${e instanceof Error ? e.message : String(e)})`, {
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
    s === "ready" || s === "busy" ? c.ok(s) : s === "errored" || s === "needs_reauth" ? c.error(s) : s === "awaiting_approval" || s === "draining" ? c.warn(s) : s;
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
    String(w.restarts),
    w.opencodePid === null ? "-" : String(w.opencodePid),
    w.lastError ?? "",
  ]);
  ctx.stdout(
    renderTable(
      ["WORKER", "STATE", "FOR", "BACKEND", "HEARTBEAT", "RUNNING", "QUEUED", "DONE/FAIL/CANC/INT", "RESTARTS", "OPENCODE", "LAST ERROR"],
      rows,
      { headerStyle: c.bold },
    ),
  );
  return EXIT.ok;
}
