// Runs a manager in the foreground until it is told to stop: the shared body of `dev` and
// `orchestrate`. Signals arrive counted from src/index.ts: 1st drains under one deadline,
// 2nd cancels running turns (they end `interrupted`), 3rd is handled there (exit now).
import type { OrchestratorConfig } from "../config/types.ts";
import { ConfigError, errorMessage, EXIT, OrchestratorError } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { resourceStack } from "../util/resources.ts";
import type { StartAgent } from "../worker/agent-types.ts";
import { createManager, type Manager } from "./manager.ts";
import { watchConfigFile } from "./reload.ts";
import { buildStatus, type StatusDoc } from "./status.ts";

export type StatusServerStarter = (o: {
  address: string;
  status: () => StatusDoc;
  log: Logger;
}) => Promise<{ address: string; stop(): Promise<void> }>;

/** A shutdown request as counted by the entry point (repeats within ~500 ms count once). */
export type ShutdownSignal = { signal: "SIGINT" | "SIGTERM" | "SIGHUP"; count: number };

/** What the runner needs from whoever runs it in the foreground (the CLI's command context fits). */
export type ForegroundHost = {
  log: Logger;
  version: string;
  /** Subscribe to counted SIGINT/SIGTERM and to SIGHUP; returns the unsubscribe function. */
  onSignal: (handler: (s: ShutdownSignal) => void) => () => void;
};

export type RunOptions = {
  config: OrchestratorConfig;
  ctx: ForegroundHost;
  startAgent: StartAgent;
  /** Stops OpenCode servers left behind by an earlier run that was killed. */
  reapLeftovers?: (log: Logger) => Promise<number>;
  /** Re-reads and validates the config (hot reload on file change and SIGHUP). */
  reloadConfig?: () => Promise<OrchestratorConfig>;
  startStatusServer?: StatusServerStarter;
  relayWindowMs?: number;
};

/** The start summary waits this long for slow workers, then names them as still connecting. */
const SUMMARY_WAIT_MS = 10_000;

function describeUnrecoverable(m: Manager): string[] {
  return m.snapshots().map((s) => `${s.name}: ${s.state}${s.lastError ? ` — ${s.lastError}` : ""}`);
}

/**
 * When no worker can run, only a config change (a new token, a fixed folder) helps, so exiting
 * for a service manager to restart would only loop. With hot reload the runner stays up and
 * waits for that change while /status and /healthz say why; without it (dev) it exits 78,
 * the code service managers are told not to restart on (docs/service.md).
 */
function onAllUnrecoverable(o: RunOptions, m: Manager, stop: (code: number, why: string) => void): void {
  const log = o.ctx.log;
  log.error("no worker can run: every one needs a new token or a config fix");
  for (const r of describeUnrecoverable(m)) log.error(`  ${r}`);
  if (o.reloadConfig) {
    log.error("waiting for a config change: fix the config (it is reloaded when saved, or on SIGHUP); the status endpoint shows each reason");
    return;
  }
  stop(EXIT.config, "no worker can run");
}

export async function runForeground(o: RunOptions): Promise<number> {
  const { ctx, config } = o;
  const log = ctx.log;
  const resources = resourceStack(log);
  let shuttingDown = false;
  let resolveExit!: (code: number) => void;
  const exit = new Promise<number>((r) => (resolveExit = r));
  let summaryPrinted = false;
  // Reported once per spell: a reload that brings a worker back re-arms it.
  let stuckReported = false;

  if (o.reapLeftovers) {
    const n = await o.reapLeftovers(log).catch((e) => {
      log.warn("could not check for leftover OpenCode servers", { error: errorMessage(e) });
      return 0;
    });
    if (n > 0) log.info(`stopped ${n} OpenCode server(s) left behind by an earlier run`);
  }

  const manager = createManager({
    config,
    log,
    version: ctx.version,
    startAgent: o.startAgent,
    relayWindowMs: o.relayWindowMs,
    onChange: () => {
      maybeSummary();
      const stuck = !shuttingDown && manager.allUnrecoverable();
      if (stuck && !stuckReported) onAllUnrecoverable(o, manager, (code, why) => void shutdown(code, why));
      stuckReported = stuck;
    },
  });

  function maybeSummary(force = false): void {
    if (summaryPrinted || (!force && manager.connecting())) return;
    const snaps = manager.snapshots();
    const settled = snaps.every((s) => !["starting", "registering"].includes(s.state));
    if (!settled && !force) return;
    summaryPrinted = true;
    const count = (pred: (s: (typeof snaps)[number]) => boolean) => snaps.filter(pred).length;
    const ready = count((s) => s.state === "ready" || s.state === "busy" || s.state === "paused");
    const waiting = count((s) => s.state === "awaiting_approval");
    const failed = snaps.filter((s) => s.state === "errored" || s.state === "needs_reauth" || s.state === "stopped");
    const starting = count((s) => s.state === "starting" || s.state === "registering");
    log.info(
      `${snaps.length} worker${snaps.length === 1 ? "" : "s"}: ${ready} ready, ${waiting} awaiting approval, ${failed.length} failed` +
        (starting ? `, ${starting} still connecting` : ""),
    );
    for (const f of failed) log.warn(`  ${f.name}: ${f.state}${f.lastError ? ` — ${f.lastError}` : ""}`);
    for (const c of snaps.filter((s) => s.state === "starting" || s.state === "registering")) {
      log.warn(`  ${c.name}: still connecting to ${c.convexUrl}`);
    }
  }

  async function shutdown(code: number, why: string, cancelReason?: string): Promise<void> {
    if (shuttingDown) {
      if (cancelReason) await manager.stop(cancelReason);
      return;
    }
    shuttingDown = true;
    log.info(`shutting down: ${why}`);
    if (cancelReason) await manager.stop(cancelReason);
    else {
      // The current config's deadline: shutdown_timeout may have changed by a reload.
      const timeoutMs = manager.config.shutdownTimeoutMs;
      const deadline = setTimeout(() => {
        log.warn(`drain deadline (${Math.round(timeoutMs / 1000)} s) reached: interrupting running answers`);
        void manager.stop("the worker shut down before the answer finished (drain deadline reached)");
      }, timeoutMs);
      await manager.drain();
      clearTimeout(deadline);
    }
    await resources.releaseAll().catch((e) => log.warn("cleanup failed", { error: errorMessage(e) }));
    resolveExit(code);
  }

  const onSignal = (s: ShutdownSignal) => {
    if (s.signal === "SIGHUP") {
      void reload("SIGHUP");
      return;
    }
    if (s.count === 1) {
      log.info(`${s.signal}: draining — running answers finish, no new ones start (press Ctrl+C again to interrupt them)`);
      void shutdown(EXIT.ok, `${s.signal} received`);
    } else if (s.count === 2) {
      log.warn(`${s.signal} again: interrupting running answers (a third signal exits at once)`);
      void shutdown(EXIT.ok, `${s.signal} received twice`, "the worker was stopped before the answer finished");
    }
  };
  resources.add("signal handler", ctx.onSignal(onSignal));

  async function reload(trigger: string): Promise<void> {
    if (!o.reloadConfig || shuttingDown) return;
    try {
      const next = await o.reloadConfig();
      for (const w of next.warnings) log.warn(`${w.path}: ${w.message}`);
      if (next.statusAddress !== manager.config.statusAddress) {
        // The endpoint keeps its socket: moving it would drop what monitors it mid-flight.
        log.warn(`status_address changed to ${next.statusAddress ?? "off"}: it takes effect at the next start`);
      }
      const r = manager.reload(next);
      log.info(`config reloaded (${trigger})`, {
        added: r.added.join(",") || undefined,
        removed: r.removed.join(",") || undefined,
        changed: r.changed.join(",") || undefined,
        unchanged: r.unchanged.length,
      });
    } catch (e) {
      const errors =
        e instanceof ConfigError ? e.issues.map((i) => `${i.path}: ${i.message}`) : [errorMessage(e)];
      manager.recordFailedReload(errors);
      log.error(`config change rejected (${trigger}); still running on the last good config`);
      for (const line of errors) log.error(`  ${line}`);
    }
  }

  manager.start();
  resources.add("workers", () => manager.stop("the orchestrator stopped"));
  setTimeout(() => maybeSummary(true), SUMMARY_WAIT_MS).unref?.();

  if (o.reloadConfig && config.source.kind === "file") {
    resources.add("config watcher", watchConfigFile(config.source.path, () => void reload("file changed"), log));
  }
  if (o.startStatusServer && config.statusAddress) {
    try {
      const server = await o.startStatusServer({
        address: config.statusAddress,
        status: () => buildStatus(manager, { version: ctx.version, shuttingDown }),
        log,
      });
      log.info(`status on http://${server.address}/status`);
      resources.add("status server", () => server.stop());
    } catch (e) {
      // The workers matter more than the status page: run on, loudly.
      // `status` then reaches whatever holds the address; it says so when that is another instance.
      log.error(`status server not started: ${errorMessage(e)}`, e instanceof OrchestratorError && e.hint ? { fix: e.hint } : undefined);
    }
  }
  return exit;
}
