// The parts of a worker that run prompts, set up from its config: the scheduler (what may start
// now), the watchdog (turns that hang), the request desk (questions for a person) and the
// running turns with their spend limits and stats.
import type { WorkerBackend } from "../backend/worker-client.ts";
import { DEFAULTS, type WorkerConfig } from "../config/types.ts";
import type { Logger } from "../util/log.ts";
import { createRequestDesk, type RequestDesk } from "./requests.ts";
import { createScheduler, type Scheduler } from "./scheduler.ts";
import { createTurns, emptyStats, type Turns, type WorkerStats } from "./turns.ts";
import { createWatchdog, type Watchdog } from "./watchdog.ts";

export type WorkParts = { stats: WorkerStats; scheduler: Scheduler; watchdog: Watchdog; requests: RequestDesk; turns: Turns };

export function createWorkParts(o: {
  config: WorkerConfig;
  log: Logger;
  instanceId: string;
  /** The worker's backend once it opened one. */
  backend: () => WorkerBackend | null;
  spentTodayBefore?: () => number;
  relayWindowMs?: number;
}): WorkParts {
  const { config, log, instanceId } = o;
  const stats = emptyStats();
  const scheduler = createScheduler(config.maxConcurrentSessions);
  const watchdog = createWatchdog({ log, inactivityMs: config.turnInactivityTimeoutMs });
  const relayWindowMs = o.relayWindowMs ?? 100;
  const requests = createRequestDesk({
    backend: o.backend,
    instanceId,
    timeoutMs: config.permissionTimeoutMs ?? DEFAULTS.permissionTimeoutMs,
    watchdog,
    running: (id) => turns.has(id),
    log,
  });
  const spend = {
    limits: { maxTurnCostUsd: config.maxTurnCostUsd ?? null, maxDailyCostUsd: config.maxDailyCostUsd ?? null },
    askPerson: requests.askPerson,
    spentBefore: o.spentTodayBefore ?? (() => 0),
  };
  const turns = createTurns({ instanceId, log, stats, spend, watchdog, inactivityTimeoutMs: config.turnInactivityTimeoutMs, relayWindowMs, requests });
  return { stats, scheduler, watchdog, requests, turns };
}
