// A sync connection's query set: what the client subscribed to and, per query, what its
// last run read. A query is marked dirty only when a commit wrote something it read, so
// time moving on alone never re-runs anything.
import type { JSONValue } from "convex/values";
import type { Caller, CallOutcome, Commit, Engine, ReadSet } from "./engine.ts";

export type Subscription = {
  udfPath: string;
  args: JSONValue;
  componentPath?: string;
  last?: string;
  /** What the last run read, and the timestamp its result is valid at. */
  reads?: ReadSet;
  validTs?: bigint;
  /** A commit since then wrote something it read. */
  dirty: boolean;
};

export type Modification = { type: "Add"; queryId: number; udfPath: string; args?: JSONValue[]; componentPath?: string } | { type: "Remove"; queryId: number };

/** Apply a ModifyQuerySet's changes; a query added and removed in one message is neither. */
export function applyModifications(queries: Map<number, Subscription>, mods: readonly Modification[]): { added: Set<number>; removed: number[] } {
  const added = new Set<number>();
  const removed: number[] = [];
  for (const mod of mods) {
    if (mod.type === "Add") {
      queries.set(mod.queryId, { udfPath: mod.udfPath, args: mod.args?.[0] ?? {}, componentPath: mod.componentPath, dirty: false });
      added.add(mod.queryId);
    } else if (mod.type === "Remove") {
      if (queries.delete(mod.queryId) && !added.delete(mod.queryId)) removed.push(mod.queryId);
    }
  }
  return { added, removed };
}

/**
 * Mark the queries whose read sets `commit` touches (all of them when it is undefined, or
 * for a query not run yet); true when any query became dirty.
 */
export function markTouched(engine: Engine, queries: Map<number, Subscription>, commit: Commit | undefined): boolean {
  let any = false;
  for (const q of queries.values()) {
    if (q.dirty) continue;
    if (!commit || !q.reads || engine.touches(q.reads, commit)) {
      q.dirty = true;
      any = true;
    }
  }
  return any;
}

export function runSubscription(engine: Engine, q: Subscription, as: Caller): Promise<CallOutcome> {
  if (q.componentPath) {
    return Promise.resolve({ success: false, errorMessage: "Components are not supported by the embedded backend", logLines: [] });
  }
  return engine.call({ udfPath: q.udfPath, args: q.args, kind: "query", caller: as });
}
