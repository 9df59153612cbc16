// Supervises N workers: starts them in parallel, isolates their failures, restarts with
// backoff, drains or stops them together, and applies a new config by diff.
import type { OrchestratorConfig, WorkerConfig } from "../config/types.ts";
import type { BackoffPolicy } from "../util/backoff.ts";
import type { Logger } from "../util/log.ts";
import type { ListModels, StartAgent } from "../worker/agent-types.ts";
import { sandboxRequest } from "../agent/sandbox/request.ts";
import { shareModelListings } from "../agent/models-share.ts";
import { createSlot, workerKey, type Slot, type SlotSnapshot } from "./slot.ts";
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

export type ReloadResult = { at: number; ok: boolean; added: string[]; removed: string[]; changed: string[]; unchanged: string[]; errors?: string[] };

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

/** Fields whose change needs the worker restarted (everything but the display order). */
function sameWorker(a: WorkerConfig, b: WorkerConfig): boolean {
  return (
    a.name === b.name &&
    a.token.equals(b.token) &&
    a.workingDirectory === b.workingDirectory &&
    a.convexUrl === b.convexUrl &&
    a.maxConcurrentSessions === b.maxConcurrentSessions &&
    (a.tags ?? []).join() === (b.tags ?? []).join() &&
    a.opencodePath === b.opencodePath &&
    a.agentIdleTimeoutMs === b.agentIdleTimeoutMs &&
    a.turnInactivityTimeoutMs === b.turnInactivityTimeoutMs &&
    a.heartbeatIntervalMs === b.heartbeatIntervalMs &&
    (a.maxTurnCostUsd ?? null) === (b.maxTurnCostUsd ?? null) &&
    (a.maxDailyCostUsd ?? null) === (b.maxDailyCostUsd ?? null) &&
    a.permissionTimeoutMs === b.permissionTimeoutMs &&
    JSON.stringify(a.permission) === JSON.stringify(b.permission) &&
    JSON.stringify(a.sandbox) === JSON.stringify(b.sandbox) &&
    a.tokenFile === b.tokenFile
  );
}

export function createManager(opts: ManagerOptions) {
  let config = opts.config;
  // When the current config (and so its rejected entries) took effect.
  let configSince = Date.now();
  const slots = new Map<string, Slot>();
  // Slots being drained after a reload removed or changed them; still shown and awaited on stop.
  const leaving = new Set<Slot>();
  const startedAt = Date.now();
  let lastReload: ReloadResult | null = null;
  const reloads = { ok: 0, failed: 0 };
  let stopping = false;
  // Workers whose listing would come out the same share one `opencode models` run.
  const listModels = opts.listModels && shareModelListings(opts.listModels);

  const newSlot = (c: WorkerConfig) =>
    createSlot(c, {
      log: opts.log,
      version: opts.version,
      // The sandbox hides every worker of the config in force when the agent starts.
      startAgent: (o) => opts.startAgent({ ...o, sandbox: sandboxRequest(c, config) }),
      listModels: listModels && ((o) => listModels({ ...o, sandbox: sandboxRequest(c, config) })),
      backoff: opts.backoff,
      relayWindowMs: opts.relayWindowMs,
      onChange: () => opts.onChange?.(),
    });

  function retire(slot: Slot, o: { cancel?: boolean; reason?: string }): Promise<void> {
    leaving.add(slot);
    return slot.retire(o).finally(() => {
      leaving.delete(slot);
      opts.onChange?.();
    });
  }

  return {
    get config() {
      return config;
    },
    startedAt,
    /** Start every worker at once; a failing one never delays the others. */
    start(): void {
      for (const c of config.workers) {
        const slot = newSlot(c);
        slots.set(slot.key, slot);
        slot.start();
      }
    },
    snapshots(): SlotSnapshot[] {
      return [...[...slots.values(), ...leaving].map((s) => s.snapshot()), ...config.rejected.map((r) => rejectedSnapshot(r, configSince))];
    },
    /** Some worker is still connecting (checked on every change: no snapshots built). */
    connecting(): boolean {
      return [...slots.values(), ...leaving].some((s) => ["starting", "registering"].includes(s.state()));
    },
    /** True when no worker can recover without a config change. */
    allUnrecoverable(): boolean {
      const list = [...slots.values()];
      return list.every((s) => s.unrecoverable()) && list.length + config.rejected.length > 0;
    },
    /** First signal: every worker stops taking prompts; running turns finish. Resolves when all stopped. */
    async drain(): Promise<void> {
      stopping = true;
      const all = [...slots.values(), ...leaving];
      for (const s of all) s.drain();
      await Promise.all(all.map((s) => s.retire()));
    },
    /** Cancel running turns (marked `interrupted` with `reason`) and stop everything. Idempotent. */
    async stop(reason: string): Promise<void> {
      stopping = true;
      const all = [...slots.values(), ...leaving];
      await Promise.all(all.map((s) => s.retire({ cancel: true, reason })));
    },
    /** Apply a validated config: start added workers, drain removed ones, restart changed ones. */
    reload(next: OrchestratorConfig): ReloadResult {
      const result: ReloadResult = { at: Date.now(), ok: true, added: [], removed: [], changed: [], unchanged: [] };
      if (stopping) return { ...result, ok: false, errors: ["shutting down"] };
      const nextByKey = new Map(next.workers.map((w) => [workerKey(w), w]));
      // The old worker drains first so its running turns finish; then its replacement starts.
      const replace = (oldKey: string, old: Slot, key: string, wanted: WorkerConfig) => {
        result.changed.push(wanted.name);
        slots.delete(oldKey);
        const replacement = newSlot(wanted);
        slots.set(key, replacement);
        void retire(old, {}).then(() => {
          replacement.absorb(old.snapshot());
          if (!stopping && slots.get(key) === replacement) replacement.start();
        });
      };
      // An entry that kept its name but got a token for another worker id is that worker with
      // a new token (the fix for needs_reauth): a change, not a removal plus an addition.
      const newToken = new Map<string, string>();
      for (const [key, slot] of slots) {
        if (nextByKey.has(key)) continue;
        const w = next.workers.find((x) => x.name === slot.config.name && !slots.has(workerKey(x)));
        if (w) newToken.set(workerKey(w), key);
      }
      // Iterate over a copy: replacing a slot re-inserts its key, which a live iterator would visit again.
      for (const [key, slot] of [...slots]) {
        const wanted = nextByKey.get(key);
        if (!wanted) {
          if ([...newToken.values()].includes(key)) continue;
          result.removed.push(slot.config.name);
          slots.delete(key);
          void retire(slot, {});
        } else if (!sameWorker(slot.config, wanted) || slot.takenOver()) {
          // A taken-over worker comes back only when a person asks (having stopped the other
          // process): a reload is that ask, even with its entry unchanged.
          replace(key, slot, key, wanted);
        } else {
          result.unchanged.push(slot.config.name);
        }
      }
      for (const [key, w] of nextByKey) {
        if (slots.has(key)) continue;
        const oldKey = newToken.get(key);
        const old = oldKey === undefined ? undefined : slots.get(oldKey);
        if (oldKey !== undefined && old) {
          replace(oldKey, old, key, w);
          continue;
        }
        result.added.push(w.name);
        const slot = newSlot(w);
        slots.set(key, slot);
        slot.start();
      }
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
