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

type PipelineDeps = {
  store: Store;
  persistence?: Persistence;
  clock: Clock;
  /** Called for each commit once it is applied, in commit order. */
  applied(commit: Commit, origin: unknown): void;
};

/** One pipeline's state; the functions below are its steps. */
type Pipeline = {
  readonly deps: PipelineDeps;
  readonly overlay: Overlay;
  // `batch` is staged; `syncing` is written to the file and waits for its sync. One group
  // syncs at a time, so groups become durable, and are applied, in commit order.
  batch: Staged[];
  syncing: Staged[] | undefined;
  scheduled: ReturnType<typeof setImmediate> | undefined;
  visibleTs: bigint;
  // A failed sync leaves the file holding writes nobody was told about: from then on no
  // commit can be promised durable, so every later one fails too (the backend must restart).
  broken: unknown;
};

export function createCommitPipeline(deps: PipelineDeps): CommitPipeline {
  const p: Pipeline = { deps, overlay: createOverlay(), batch: [], syncing: undefined, scheduled: undefined, visibleTs: deps.clock.now(), broken: undefined };
  return {
    overlay: p.overlay,
    get visibleTs() {
      return p.visibleTs;
    },
    observe(ts) {
      deps.clock.observe(ts);
      if (ts > p.visibleTs) p.visibleTs = ts;
    },
    stage: (tx, origin) => stage(p, tx, origin),
    flush: () => flush(p),
  };
}

function stage(p: Pipeline, tx: Tx, origin: unknown): Promise<bigint> {
  if (p.broken !== undefined) return Promise.reject(p.broken);
  // A write that leaves a document as it was is no change: nobody is told about it.
  const writes = [...tx.writes.values()].filter((w) => w.old?.json !== w.next?.json);
  // Nothing written and nothing pending that it could have read: done.
  if (writes.length === 0 && p.batch.length === 0 && !p.syncing) return Promise.resolve(p.visibleTs);
  const commit = writes.length > 0 ? { ts: p.deps.clock.next(), writes } : undefined;
  if (commit) for (const w of writes) p.overlay.set(w);
  const done = new Promise<bigint>((resolve, reject) => p.batch.push({ ...(commit ? { commit } : {}), origin, resolve, reject }));
  if (!p.deps.persistence) flush(p);
  else if (!p.syncing) p.scheduled ??= setImmediate(() => startGroup(p));
  return done;
}

function startGroup(p: Pipeline): void {
  p.scheduled = undefined;
  if (p.syncing || p.batch.length === 0) return;
  const items = (p.syncing = p.batch);
  p.batch = [];
  const failed = write(p, items);
  if (failed !== undefined) return failAll(p, failed);
  p.deps.persistence!.sync().then(
    () => {
      if (p.syncing !== items) return; // flush() finished this group already
      p.syncing = undefined;
      apply(p, items);
      startGroup(p);
    },
    (e) => {
      if (p.syncing !== items) return;
      p.broken = e;
      failAll(p, e);
    },
  );
}

function flush(p: Pipeline): void {
  if (p.scheduled) clearImmediate(p.scheduled);
  p.scheduled = undefined;
  // The group being synced is in the file already; its pending sync is then ignored.
  if (p.syncing && !syncNow(p, p.syncing)) return;
  if (p.batch.length === 0) return;
  const items = (p.syncing = p.batch);
  p.batch = [];
  const failed = write(p, items);
  if (failed !== undefined) return failAll(p, failed);
  syncNow(p, items);
}

/** Write a group's commits to the file (not yet durable); the error when that failed. */
function write(p: Pipeline, items: Staged[]): unknown {
  const { store, persistence } = p.deps;
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

/** Sync what was written, blocking, and apply it; false when the sync failed. */
function syncNow(p: Pipeline, items: Staged[]): boolean {
  try {
    p.deps.persistence?.syncNow();
  } catch (e) {
    p.broken = e;
    failAll(p, e);
    return false;
  }
  p.syncing = undefined;
  apply(p, items);
  return true;
}

/** A durable group becomes visible: applied to the store, its callers answered, in commit order. */
function apply(p: Pipeline, items: Staged[]): void {
  for (const i of items) {
    if (i.commit) {
      // A later staged write of the same document stays in the overlay.
      for (const w of i.commit.writes) p.overlay.delete(w);
      p.deps.store.apply(i.commit.writes);
      if (i.commit.ts > p.visibleTs) p.visibleTs = i.commit.ts;
      p.deps.applied(i.commit, i.origin);
    }
    i.resolve(i.commit?.ts ?? p.visibleTs);
  }
}

function failAll(p: Pipeline, e: unknown): void {
  const items = [...(p.syncing ?? []), ...p.batch];
  p.syncing = undefined;
  p.batch = [];
  p.overlay.clear();
  for (const i of items) i.reject(e);
}

type Overlay = Pending & { set(w: Write): void; delete(w: Write): void; clear(): void };

/** The staged writes by id and per table: a mutation's index walk looks at its table's only. */
function createOverlay(): Overlay {
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
