// Supervises N workers: starts them in parallel, isolates their failures, restarts with
// backoff, drains or stops them together, and applies a new config by diff (reload-workers.ts).
import type { OrchestratorConfig, WorkerConfig } from "../config/types.ts";
import type { BackoffPolicy } from "../util/backoff.ts";
import type { Logger } from "../util/log.ts";
import type { ListModels, StartAgent } from "../worker/agent-types.ts";
import { sandboxRequest } from "../agent/sandbox/request.ts";
import { shareModelListings } from "../agent/models-share.ts";
import { reloadWorkers, type ReloadResult } from "./reload-workers.ts";
import { createSlotPool } from "./slot-pool.ts";
import { createSlot, type Slot, type SlotSnapshot } from "./slot.ts";
import type { RejectedWorker } from "../config/types.ts";
import { emptyStats } from "./worker-stats.ts";

/** A config entry that was left out: shown as errored (config) with its problems. */
function rejectedSnapshot(r: RejectedWorker, since: number): SlotSnapshot {
  return {
    key: r.origin,
    name: r.name,
    state: "errored",
    since,
    backendConnected: false,
    lastHeartbeatAt: null,
    turnsRunning: 0,
    turnsQueued: 0,
    lastError: `config ${r.origin}: ${r.issues.map((i) => `${i.path.replace(/^workers\[\d+\]\.?/, "") || "entry"} ${i.message}`).join("; ")}`,
    errorClass: "config",
    opencodePid: null,
    approval: null,
    stats: emptyStats(),
    restarts: 0,
    nextRestartAt: null,
    workingDirectory: "",
    convexUrl: "",
    machineId: "",
    workerId: "",
  };
}

export type ManagerOptions = {
  config: OrchestratorConfig;
  log: Logger;
  version: string;
  startAgent: StartAgent;
  listModels?: ListModels;
  backoff?: BackoffPolicy;
  relayWindowMs?: number;
  /** Called whenever any worker's state may have changed. */
  onChange?: () => void;
};

export type Manager = ReturnType<typeof createManager>;

/** Makes the slot of one worker; `current` is the config in force, read when its agent starts. */
function slotMaker(opts: ManagerOptions, current: () => OrchestratorConfig): (c: WorkerConfig) => Slot {
  // Workers whose listing would come out the same share one `opencode models` run.
  const listModels = opts.listModels && shareModelListings(opts.listModels);
  return (c) =>
    createSlot(c, {
      log: opts.log,
      version: opts.version,
      // The sandbox hides every worker of the config in force when the agent starts.
      startAgent: (o) => opts.startAgent({ ...o, sandbox: sandboxRequest(c, current()) }),
      listModels: listModels && ((o) => listModels({ ...o, sandbox: sandboxRequest(c, current()) })),
      backoff: opts.backoff,
      relayWindowMs: opts.relayWindowMs,
      onChange: () => opts.onChange?.(),
    });
}

export function createManager(opts: ManagerOptions) {
  let config = opts.config;
  // When the current config (and so its rejected entries) took effect.
  let configSince = Date.now();
  const startedAt = Date.now();
  let lastReload: ReloadResult | null = null;
  const reloads = { ok: 0, failed: 0 };
  let stopping = false;
  const pool = createSlotPool({ newSlot: slotMaker(opts, () => config), stopping: () => stopping, onChange: opts.onChange });
  const { slots } = pool;

  return {
    get config() {
      return config;
    },
    startedAt,
    /** Start every worker at once; a failing one never delays the others. */
    start(): void {
      for (const c of config.workers) {
        const slot = pool.newSlot(c);
        slots.set(slot.key, slot);
        slot.start();
      }
    },
    snapshots(): SlotSnapshot[] {
      return [...pool.all().map((s) => s.snapshot()), ...config.rejected.map((r) => rejectedSnapshot(r, configSince))];
    },
    /** Some worker is still connecting (checked on every change: no snapshots built). */
    connecting(): boolean {
      return pool.all().some((s) => ["starting", "registering"].includes(s.state()));
    },
    /** True when no worker can recover without a config change. */
    allUnrecoverable(): boolean {
      const list = [...slots.values()];
      return list.every((s) => s.unrecoverable()) && list.length + config.rejected.length > 0;
    },
    /** First signal: every worker stops taking prompts; running turns finish. Resolves when all stopped. */
    async drain(): Promise<void> {
      stopping = true;
      const all = pool.all();
      for (const s of all) s.drain();
      await Promise.all(all.map((s) => s.retire()));
    },
    /** Cancel running turns (marked `interrupted` with `reason`) and stop everything. Idempotent. */
    async stop(reason: string): Promise<void> {
      stopping = true;
      const all = pool.all();
      await Promise.all(all.map((s) => s.retire({ cancel: true, reason })));
    },
    /** Apply a validated config: start added workers, drain removed ones, restart changed ones. */
    reload(next: OrchestratorConfig): ReloadResult {
      const result: ReloadResult = { at: Date.now(), ok: true, added: [], removed: [], changed: [], unchanged: [] };
      if (stopping) return { ...result, ok: false, errors: ["shutting down"] };
      reloadWorkers(pool, next.workers, result);
      config = { ...next };
      configSince = result.at;
      lastReload = result;
      reloads.ok++;
      opts.onChange?.();
      return result;
    },
    recordFailedReload(errors: string[]): ReloadResult {
      lastReload = { at: Date.now(), ok: false, added: [], removed: [], changed: [], unchanged: [], errors };
      reloads.failed++;
      return lastReload;
    },
    get lastReload() {
      return lastReload;
    },
    /** Reload results since start, for metrics. */
    reloads,
  };
}
