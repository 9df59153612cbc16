// From a finished mutation to a durable, visible commit. With a data file, commits staged
// while the previous group is being made durable are written together as one SQLite
// transaction, then synced to disk off the event loop (persistence.ts): mutations keep
// running meanwhile, and one sync covers many of them. Until its group is durable a commit
// is visible to later mutations only (through the overlay), never to queries, and no caller
// gets its result: nothing is seen before it is durable. In memory, a commit is applied at once.
import type { Clock } from "./timestamp.ts";
import type { Persistence } from "./persistence.ts";
import type { Store, Write } from "./store.ts";
import type { Pending, Tx } from "./transaction.ts";

export type Commit = { readonly ts: bigint; readonly writes: readonly Write[] };

export type CommitPipeline = {
  /** Staged writes not yet durable (what later mutations build on). */
  readonly overlay: Pending;
  /** The latest durable, applied commit (or a later timestamp a client saw). */
  readonly visibleTs: bigint;
  observe(ts: bigint): void;
  /** Resolves with the commit timestamp once durable and applied (rejects if writing failed). */
  stage(tx: Tx, origin: unknown): Promise<bigint>;
  /** Write, sync and apply everything staged now, blocking (closing, or a query that must not race). */
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
  const overlay = createOverlay();
  // `batch` is staged; `syncing` is written to the file and waits for its sync. One group
  // syncs at a time, so groups become durable, and are applied, in commit order.
  let batch: Staged[] = [];
  let syncing: Staged[] | undefined;
  let scheduled: ReturnType<typeof setImmediate> | undefined;
  let visibleTs = clock.now();
  // A failed sync leaves the file holding writes nobody was told about: from then on no
  // commit can be promised durable, so every later one fails too (the backend must restart).
  let broken: unknown;

  function apply(items: Staged[]): void {
    for (const i of items) {
      if (i.commit) {
        // A later staged write of the same document stays in the overlay.
        for (const w of i.commit.writes) overlay.delete(w);
        store.apply(i.commit.writes);
        if (i.commit.ts > visibleTs) visibleTs = i.commit.ts;
        deps.applied(i.commit, i.origin);
      }
      i.resolve(i.commit?.ts ?? visibleTs);
    }
  }

  function failAll(e: unknown): void {
    const items = [...(syncing ?? []), ...batch];
    syncing = undefined;
    batch = [];
    overlay.clear();
    for (const i of items) i.reject(e);
  }

  /** Write a group's commits to the file (not yet durable); the error when that failed. */
  function write(items: Staged[]): unknown {
    const commits = items.flatMap((i) => (i.commit ? [i.commit] : []));
    if (commits.length === 0 || !persistence) return undefined;
    const numbers = store.takeFreshTableNumbers();
    try {
      persistence.commit(commits.at(-1)!.ts, commits.flatMap((c) => c.writes), numbers);
      return undefined;
    } catch (e) {
      store.returnFreshTableNumbers(numbers);
      return e;
    }
  }

  function startGroup(): void {
    scheduled = undefined;
    if (syncing || batch.length === 0) return;
    const items = (syncing = batch);
    batch = [];
    const failed = write(items);
    if (failed !== undefined) return failAll(failed);
    persistence!.sync().then(
      () => {
        if (syncing !== items) return; // flush() finished this group already
        syncing = undefined;
        apply(items);
        startGroup();
      },
      (e) => {
        if (syncing !== items) return;
        broken = e;
        failAll(e);
      },
    );
  }

  /** Sync what was written, blocking, and apply it; false when the sync failed. */
  function syncNow(items: Staged[]): boolean {
    try {
      persistence?.syncNow();
    } catch (e) {
      broken = e;
      failAll(e);
      return false;
    }
    syncing = undefined;
    apply(items);
    return true;
  }

  function flush(): void {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    // The group being synced is in the file already; its pending sync is then ignored.
    if (syncing && !syncNow(syncing)) return;
    if (batch.length === 0) return;
    const items = (syncing = batch);
    batch = [];
    const failed = write(items);
    if (failed !== undefined) return failAll(failed);
    syncNow(items);
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
      if (broken !== undefined) return Promise.reject(broken);
      // A write that leaves a document as it was is no change: nobody is told about it.
      const writes = [...tx.writes.values()].filter((w) => w.old?.json !== w.next?.json);
      // Nothing written and nothing pending that it could have read: done.
      if (writes.length === 0 && batch.length === 0 && !syncing) return Promise.resolve(visibleTs);
      const commit = writes.length > 0 ? { ts: clock.next(), writes } : undefined;
      if (commit) for (const w of writes) overlay.set(w);
      const done = new Promise<bigint>((resolve, reject) => batch.push({ ...(commit ? { commit } : {}), origin, resolve, reject }));
      if (!persistence) flush();
      else if (!syncing) scheduled ??= setImmediate(startGroup);
      return done;
    },
    flush,
  };
}

/** The staged writes by id and per table: a mutation's index walk looks at its table's only. */
function createOverlay(): Pending & { set(w: Write): void; delete(w: Write): void; clear(): void } {
  const byId = new Map<string, Write>();
  const byTable = new Map<string, Map<string, Write>>();
  const NONE = new Map<string, Write>();
  return {
    get: (id) => byId.get(id),
    has: (id) => byId.has(id),
    sizeOf: (table) => byTable.get(table)?.size ?? 0,
    ofTable: (table) => (byTable.get(table) ?? NONE).values(),
    set(w) {
      byId.set(w.id, w);
      let t = byTable.get(w.table);
      if (!t) byTable.set(w.table, (t = new Map()));
      t.set(w.id, w);
    },
    /** Only if `w` is still the latest staged write of its document. */
    delete(w) {
      if (byId.get(w.id) !== w) return;
      byId.delete(w.id);
      byTable.get(w.table)?.delete(w.id);
    },
    clear() {
      byId.clear();
      byTable.clear();
    },
  };
}
