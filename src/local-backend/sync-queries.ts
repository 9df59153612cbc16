// A sync connection's query set: what the client subscribed to and, per query, what its
// last run read. A query is marked dirty only when a commit wrote something it read (the
// engine finds those through its watch), so time moving on alone never re-runs anything.
import type { JSONValue } from "convex/values";
import type { Caller, CallOutcome, Engine, ReadSet, Watch } from "./engine.ts";

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
  /** Files `reads` with the engine; closed when the query is removed. */
  watch: Watch;
};

export type Modification = { type: "Add"; queryId: number; udfPath: string; args?: JSONValue[]; componentPath?: string } | { type: "Remove"; queryId: number };

/**
 * Apply a ModifyQuerySet's changes; a query added and removed in one message is neither.
 * `watch` opens the engine watch of a new query (`touched` marks it dirty).
 */
export function applyModifications(
  queries: Map<number, Subscription>,
  mods: readonly Modification[],
  watch: (q: Subscription) => Watch,
): { added: Set<number>; removed: number[] } {
  const added = new Set<number>();
  const removed: number[] = [];
  for (const mod of mods) {
    if (mod.type === "Add") {
      queries.get(mod.queryId)?.watch.close();
      const q = { udfPath: mod.udfPath, args: mod.args?.[0] ?? {}, componentPath: mod.componentPath, dirty: false } as Subscription;
      q.watch = watch(q);
      queries.set(mod.queryId, q);
      added.add(mod.queryId);
    } else if (mod.type === "Remove") {
      queries.get(mod.queryId)?.watch.close();
      if (queries.delete(mod.queryId) && !added.delete(mod.queryId)) removed.push(mod.queryId);
    }
  }
  return { added, removed };
}

export function runSubscription(engine: Engine, q: Subscription, as: Caller): Promise<CallOutcome> {
  if (q.componentPath) {
    return Promise.resolve({ success: false, errorMessage: "Components are not supported by the embedded backend", logLines: [] });
  }
  return engine.call({ udfPath: q.udfPath, args: q.args, kind: "query", caller: as });
}
