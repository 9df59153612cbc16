// Building one Transition: re-run the queries that need it, keep only the results that
// changed, and move the version. The client rejects a Transition that does not start at
// its version, so the version moves here only when a message is actually produced.
import type { CallOutcome, Caller, Commit, Engine } from "./engine.ts";
import { runSubscription, type Subscription } from "./sync-queries.ts";
import { encodeTs } from "./timestamp.ts";

export type Version = { querySet: number; identity: number; ts: bigint };

/** What a session's Transitions read and update; shared with its commit listener. */
export type TransitionState = {
  version: Version;
  readonly queries: Map<number, Subscription>;
  caller: Caller;
  closed: boolean;
  /** Set while queries run, so commits landing meanwhile are kept in `commitsDuring`. */
  inTransition: boolean;
  commitsDuring: Commit[];
};

export type Change = { querySet?: number; identity?: number; added?: Set<number>; removed?: number[]; rerunAll?: boolean; force: boolean };

/**
 * Run what `change` asks for. Returns the Transition to send (undefined when nothing
 * changed and nothing forces one) and whether queries are still dirty and need another.
 */
export async function buildTransition(s: TransitionState, engine: Engine, change: Change): Promise<{ message?: object; again: boolean }> {
  const ts = engine.ts > s.version.ts ? engine.ts : s.version.ts;
  const as = s.caller;
  const modifications: object[] = (change.removed ?? []).map((queryId) => ({ type: "QueryRemoved", queryId }));
  const runs = [...s.queries].filter(([id, q]) => change.rerunAll === true || q.dirty || change.added?.has(id));
  for (const [, q] of runs) q.dirty = false;
  s.inTransition = true;
  let outcomes: CallOutcome[];
  try {
    outcomes = await Promise.all(runs.map(([, q]) => runSubscription(engine, q, as)));
  } finally {
    s.inTransition = false;
  }
  const seen = s.commitsDuring;
  s.commitsDuring = [];
  if (s.closed) return { again: false };
  runs.forEach(([queryId, q], i) => {
    const update = record(engine, queryId, q, outcomes[i]!, seen, change.added?.has(queryId) === true);
    if (update) modifications.push(update);
  });
  const again = [...s.queries.values()].some((q) => q.dirty);
  const next: Version = { querySet: change.querySet ?? s.version.querySet, identity: change.identity ?? s.version.identity, ts };
  const moved = next.querySet !== s.version.querySet || next.identity !== s.version.identity;
  if (modifications.length === 0 && !change.force && !moved) return { again };
  const message = { type: "Transition", startVersion: wire(s.version), endVersion: wire(next), modifications };
  s.version = next;
  return { message, again };
}

/** Keep a run's read set; the modification to send, or undefined when the result is unchanged. */
function record(engine: Engine, queryId: number, q: Subscription, o: CallOutcome, seen: readonly Commit[], added: boolean): object | undefined {
  q.reads = o.reads;
  q.watch.reads(o.reads);
  q.validTs = o.ts;
  // A commit that landed after this run's snapshot and touches what it read: again.
  if (seen.some((c) => (o.ts === undefined || c.ts > o.ts) && (!o.reads || engine.touches(o.reads, c)))) q.dirty = true;
  const key = o.success ? JSON.stringify({ v: o.value }) : JSON.stringify({ e: o.errorMessage, d: o.errorData ?? null });
  if (!added && key === q.last) return undefined;
  q.last = key;
  return o.success
    ? { type: "QueryUpdated", queryId, value: o.value, logLines: o.logLines, journal: null }
    : { type: "QueryFailed", queryId, errorMessage: o.errorMessage, ...(o.errorData !== undefined ? { errorData: o.errorData } : {}), logLines: o.logLines, journal: null };
}

function wire(v: Version) {
  return { querySet: v.querySet, identity: v.identity, ts: encodeTs(v.ts) };
}
