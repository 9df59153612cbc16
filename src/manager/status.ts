// The status document served on /status and read by `status`. Built from snapshots only:
// it carries no token, secret or environment.
import type { Manager } from "./manager.ts";
import type { ReloadResult } from "./reload-workers.ts";
import type { SlotSnapshot } from "./slot.ts";
import { sandboxStatus, type SandboxStatus } from "../agent/sandbox/request.ts";
import { usageToday, type UsageStats } from "../worker/budget-usage.ts";

export type WorkerStatusDoc = {
  name: string;
  machineId: string;
  workerId: string;
  state: SlotSnapshot["state"];
  since: string;
  approval: string | null;
  backendConnected: boolean;
  lastHeartbeatAgeSeconds: number | null;
  turnsRunning: number;
  turnsQueued: number;
  turns: SlotSnapshot["stats"]["turns"];
  relayBatches: number;
  heartbeatsFailed: number;
  /** Tokens and cost (USD) as OpenCode reported them: since start, today (UTC day), the last turn. Absent in older documents. */
  usage?: UsageStats;
  /** The worker's spend limits in USD (max_turn_cost, max_daily_cost); null = none. Absent in older documents. */
  spendLimits?: { maxTurnCostUsd: number | null; maxDailyCostUsd: number | null };
  restarts: number;
  nextRestartAt: string | null;
  lastError: string | null;
  errorClass: string | null;
  opencodePid: number | null;
  /** The agent's sandbox (src/agent/sandbox): mode, state, tool. */
  sandbox?: SandboxStatus | null;
  workingDirectory: string;
  convexUrl: string;
  /** Labels sessions are routed by (`chat --tag`); absent from orchestrators older than tags. */
  tags?: string[];
};

export type StatusDoc = {
  version: string;
  pid: number;
  config: string;
  startedAt: string;
  uptimeSeconds: number;
  shuttingDown: boolean;
  lastReload: (Omit<ReloadResult, "at"> & { at: string }) | null;
  reloads: { ok: number; failed: number };
  workers: WorkerStatusDoc[];
};

export function buildStatus(m: Manager, o: { version: string; shuttingDown: boolean }): StatusDoc {
  const now = Date.now();
  const src = m.config.source;
  return {
    version: o.version,
    pid: process.pid,
    config: src.kind === "file" ? src.path : src.envFile,
    startedAt: new Date(m.startedAt).toISOString(),
    uptimeSeconds: Math.round((now - m.startedAt) / 1000),
    shuttingDown: o.shuttingDown,
    lastReload: m.lastReload ? { ...m.lastReload, at: new Date(m.lastReload.at).toISOString() } : null,
    reloads: { ...m.reloads },
    workers: m.snapshots().map((s) => ({
      name: s.name,
      machineId: s.machineId,
      workerId: s.workerId,
      state: s.state,
      since: new Date(s.since).toISOString(),
      approval: s.approval,
      backendConnected: s.backendConnected,
      lastHeartbeatAgeSeconds: s.lastHeartbeatAt === null ? null : Math.round((now - s.lastHeartbeatAt) / 1000),
      turnsRunning: s.turnsRunning,
      turnsQueued: s.turnsQueued,
      turns: s.stats.turns,
      relayBatches: s.stats.relayBatches,
      heartbeatsFailed: s.stats.heartbeatsFailed,
      usage: { ...s.stats.usage, today: usageToday(s.stats.usage, now) },
      spendLimits: spendLimitsOf(m, s.name),
      restarts: s.restarts,
      nextRestartAt: s.nextRestartAt === null ? null : new Date(s.nextRestartAt).toISOString(),
      lastError: s.lastError,
      errorClass: s.errorClass,
      opencodePid: s.opencodePid,
      sandbox: sandboxStatus(s.name, m.config),
      workingDirectory: s.workingDirectory,
      convexUrl: s.convexUrl,
      tags: m.config.workers.find((w) => w.name === s.name)?.tags ?? [],
    })),
  };
}

/** The limits of the configured worker of that name (names are unique in a config). */
function spendLimitsOf(m: Manager, name: string): WorkerStatusDoc["spendLimits"] {
  const c = m.config.workers.find((w) => w.name === name);
  return { maxTurnCostUsd: c?.maxTurnCostUsd ?? null, maxDailyCostUsd: c?.maxDailyCostUsd ?? null };
}
