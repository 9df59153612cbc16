// A new config applied to running workers by diff: added workers start, removed ones drain,
// changed ones drain and are replaced; an unchanged worker is left alone, its turns untouched.
import type { WorkerConfig } from "../config/types.ts";
import type { SlotPool } from "./slot-pool.ts";
import { workerKey, type Slot } from "./slot.ts";

export type ReloadResult = { at: number; ok: boolean; added: string[]; removed: string[]; changed: string[]; unchanged: string[]; errors?: string[] };

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

/**
 * An entry that kept its name but got a token for another worker id is that worker with a new
 * token (the fix for needs_reauth): a change, not a removal plus an addition. New key → old key.
 */
function newTokens(slots: Map<string, Slot>, next: WorkerConfig[], nextByKey: Map<string, WorkerConfig>): Map<string, string> {
  const newToken = new Map<string, string>();
  for (const [key, slot] of slots) {
    if (nextByKey.has(key)) continue;
    const w = next.find((x) => x.name === slot.config.name && !slots.has(workerKey(x)));
    if (w) newToken.set(workerKey(w), key);
  }
  return newToken;
}

/** Applies `next` to the pool's slots and fills in what was added, removed, changed and left alone. */
export function reloadWorkers(pool: SlotPool, next: WorkerConfig[], result: ReloadResult): void {
  const { slots } = pool;
  const nextByKey = new Map(next.map((w) => [workerKey(w), w]));
  // The old worker drains first so its running turns finish; then its replacement starts.
  const replace = (oldKey: string, old: Slot, key: string, wanted: WorkerConfig) => {
    result.changed.push(wanted.name);
    slots.delete(oldKey);
    const replacement = pool.newSlot(wanted);
    slots.set(key, replacement);
    void pool.retire(old, {}).then(() => {
      replacement.absorb(old.snapshot());
      if (!pool.stopping() && slots.get(key) === replacement) replacement.start();
    });
  };
  const newToken = newTokens(slots, next, nextByKey);
  // Iterate over a copy: replacing a slot re-inserts its key, which a live iterator would visit again.
  for (const [key, slot] of [...slots]) {
    const wanted = nextByKey.get(key);
    if (!wanted) {
      if ([...newToken.values()].includes(key)) continue;
      result.removed.push(slot.config.name);
      slots.delete(key);
      void pool.retire(slot, {});
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
    const slot = pool.newSlot(w);
    slots.set(key, slot);
    slot.start();
  }
}
