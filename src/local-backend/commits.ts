// From a finished mutation to a durable, visible commit. With a data file, commits staged
// in the same turn of the event loop are written in one SQLite transaction (one fsync for
// many mutations); until then they are visible to later mutations only (through the
// overlay), never to queries, and no caller gets its result: nothing is seen before it is
// durable. In memory, a commit is applied at once.
import type { Clock } from "./timestamp.ts";
import type { Persistence } from "./persistence.ts";
import type { Store, Write } from "./store.ts";
import type { Tx } from "./transaction.ts";

export type Commit = { readonly ts: bigint; readonly writes: readonly Write[] };

export type CommitPipeline = {
  /** Staged writes not yet durable, by id (what later mutations build on). */
  readonly overlay: ReadonlyMap<string, Write>;
  /** The latest durable, applied commit (or a later timestamp a client saw). */
  readonly visibleTs: bigint;
  observe(ts: bigint): void;
  /** Resolves with the commit timestamp once durable and applied (rejects if writing failed). */
  stage(tx: Tx, origin: unknown): Promise<bigint>;
  /** Write and apply everything staged now. */
  flush(): void;
};

type Staged = { commit?: Commit; origin: unknown; resolve(ts: bigint): void; reject(e: unknown): void };

export function createCommitPipeline(deps: {
  store: Store;
  persistence?: Persistence;
  clock: Clock;
  /** Called for each commit once it is applied, in commit order. */
  applied(commit: Commit, origin: unknown): void;
}): CommitPipeline {
  const { store, persistence, clock } = deps;
  const overlay = new Map<string, Write>();
  let batch: Staged[] = [];
  let scheduled: ReturnType<typeof setImmediate> | undefined;
  let visibleTs = clock.now();

  function flush(): void {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    const items = batch;
    batch = [];
    if (items.length === 0) return;
    const commits = items.flatMap((i) => (i.commit ? [i.commit] : []));
    if (commits.length > 0) {
      const numbers = store.takeFreshTableNumbers();
      try {
        persistence?.commit(commits.at(-1)!.ts, commits.flatMap((c) => c.writes), numbers);
      } catch (e) {
        store.returnFreshTableNumbers(numbers);
        overlay.clear();
        for (const i of items) i.reject(e);
        return;
      }
    }
    overlay.clear();
    for (const i of items) {
      if (i.commit) {
        store.apply(i.commit.writes);
        if (i.commit.ts > visibleTs) visibleTs = i.commit.ts;
        deps.applied(i.commit, i.origin);
      }
      i.resolve(i.commit?.ts ?? visibleTs);
    }
  }

  return {
    overlay,
    get visibleTs() {
      return visibleTs;
    },
    observe(ts) {
      clock.observe(ts);
      if (ts > visibleTs) visibleTs = ts;
    },
    stage(tx, origin) {
      // A write that leaves a document as it was is no change: nobody is told about it.
      const writes = [...tx.writes.values()].filter((w) => w.old?.json !== w.next?.json);
      // Nothing written and nothing pending that it could have read: done.
      if (writes.length === 0 && batch.length === 0) return Promise.resolve(visibleTs);
      const commit = writes.length > 0 ? { ts: clock.next(), writes } : undefined;
      if (commit) for (const w of writes) overlay.set(w.id, w);
      const done = new Promise<bigint>((resolve, reject) => batch.push({ ...(commit ? { commit } : {}), origin, resolve, reject }));
      if (!persistence) flush();
      else scheduled ??= setImmediate(flush);
      return done;
    },
    flush,
  };
}
