// Runs a manager in the foreground until it is told to stop: the shared body of `dev` and
// `orchestrate`. Signals arrive counted from src/index.ts: 1st drains under one deadline,
// 2nd cancels running turns (they end `interrupted`), 3rd is handled there (exit now).
import type { OrchestratorConfig } from "../config/types.ts";
import { errorMessage, EXIT, OrchestratorError } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { resourceStack, type ResourceStack } from "../util/resources.ts";
import type { ListModels, StartAgent } from "../worker/agent-types.ts";
import { createManager, type Manager } from "./manager.ts";
import { watchConfigFile } from "./reload.ts";
import { reloadConfig } from "./run-reload.ts";
import { printSummary } from "./run-summary.ts";
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
  /** Lists a worker's models at its start, before any OpenCode runs. */
  listModels?: ListModels;
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
  // Name a takeover only when there is one: the fix for it is stopping the other process.
  const takenOver = m.snapshots().some((s) => s.errorClass === "taken_over");
  log.error(`no worker can run: every one needs a new token or a config fix${takenOver ? ", or was taken over by another process" : ""}`);
  for (const r of describeUnrecoverable(m)) log.error(`  ${r}`);
  if (o.reloadConfig) {
    log.error("waiting for a config change: fix the config (it is reloaded when saved, or on SIGHUP); the status endpoint shows each reason");
    return;
  }
  stop(EXIT.config, "no worker can run");
}

/** One foreground run: what its phases share (was the closure of runForeground). */
export type Run = {
  o: RunOptions;
  log: Logger;
  resources: ResourceStack;
  manager: Manager;
  shuttingDown: boolean;
  summaryPrinted: boolean;
  // Reported once per spell: a reload that brings a worker back re-arms it.
  stuckReported: boolean;
  resolveExit: (code: number) => void;
};

export async function runForeground(o: RunOptions): Promise<number> {
  const { ctx, config } = o;
  const log = ctx.log;
  await reapLeftovers(o, log);
  let resolveExit!: (code: number) => void;
  const exit = new Promise<number>((r) => (resolveExit = r));
  const run: Run = {
    o,
    log,
    resources: resourceStack(log),
    manager: createManager({
      config,
      log,
      version: ctx.version,
      startAgent: o.startAgent,
      listModels: o.listModels,
      relayWindowMs: o.relayWindowMs,
      onChange: () => onManagerChange(run),
    }),
    shuttingDown: false,
    summaryPrinted: false,
    stuckReported: false,
    resolveExit,
  };
  const { manager, resources } = run;
  resources.add("signal handler", ctx.onSignal((s) => onShutdownSignal(run, s)));
  manager.start();
  resources.add("workers", () => manager.stop("the orchestrator stopped"));
  setTimeout(() => printSummary(run, true), SUMMARY_WAIT_MS).unref?.();

  if (o.reloadConfig && config.source.kind === "file") {
    resources.add("config watcher", watchConfigFile(config.source.path, () => void reloadConfig(run, "file changed"), log));
  }
  if (o.startStatusServer && config.statusAddress) await startStatus(run, o.startStatusServer, config.statusAddress);
  return exit;
}

async function reapLeftovers(o: RunOptions, log: Logger): Promise<void> {
  if (!o.reapLeftovers) return;
  const n = await o.reapLeftovers(log).catch((e) => {
    log.warn("could not check for leftover OpenCode servers", { error: errorMessage(e) });
    return 0;
  });
  if (n > 0) log.info(`stopped ${n} OpenCode server(s) left behind by an earlier run`);
}

function onManagerChange(run: Run): void {
  printSummary(run);
  const stuck = !run.shuttingDown && run.manager.allUnrecoverable();
  if (stuck && !run.stuckReported) onAllUnrecoverable(run.o, run.manager, (code, why) => void shutdown(run, code, why));
  run.stuckReported = stuck;
}

function onShutdownSignal(run: Run, s: ShutdownSignal): void {
  const { log } = run;
  if (s.signal === "SIGHUP") {
    void reloadConfig(run, "SIGHUP");
    return;
  }
  if (s.count === 1) {
    log.info(`${s.signal}: draining — running answers finish, no new ones start (press Ctrl+C again to interrupt them)`);
    void shutdown(run, EXIT.ok, `${s.signal} received`);
  } else if (s.count === 2) {
    log.warn(`${s.signal} again: interrupting running answers (a third signal exits at once)`);
    void shutdown(run, EXIT.ok, `${s.signal} received twice`, "the worker was stopped before the answer finished");
  }
}

async function shutdown(run: Run, code: number, why: string, cancelReason?: string): Promise<void> {
  const { log, manager } = run;
  if (run.shuttingDown) {
    if (cancelReason) await manager.stop(cancelReason);
    return;
  }
  run.shuttingDown = true;
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
  await run.resources.releaseAll().catch((e) => log.warn("cleanup failed", { error: errorMessage(e) }));
  run.resolveExit(code);
}

async function startStatus(run: Run, start: StatusServerStarter, address: string): Promise<void> {
  const { log } = run;
  try {
    const server = await start({
      address,
      status: () => buildStatus(run.manager, { version: run.o.ctx.version, shuttingDown: run.shuttingDown }),
      log,
    });
    log.info(`status on http://${server.address}/status`);
    run.resources.add("status server", () => server.stop());
  } catch (e) {
    // The workers matter more than the status page: run on, loudly.
    // `status` then reaches whatever holds the address; it says so when that is another instance.
    log.error(`status server not started: ${errorMessage(e)}`, e instanceof OrchestratorError && e.hint ? { fix: e.hint } : undefined);
  }
}
