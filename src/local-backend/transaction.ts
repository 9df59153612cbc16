// One function execution's view of the data: reads of committed documents (plus, in a
// mutation, its own pending writes), the read set those reads leave behind (documents by id
// and index ranges — what decides which subscriptions a later commit invalidates), and the
// usage counted against the limits of a real deployment.
import type { Value } from "convex/values";
import { keyOf, type DocRec, type Store, type Write } from "./store.ts";
import { compareValues, type Key } from "./values.ts";

export type Bound = { value: Value | undefined; inclusive: boolean };
/** Index `index` of `table`, keys whose first fields equal `eq` and whose next field is within the bounds. */
export type Range = { table: string; index: string; eq: Key; lower?: Bound; upper?: Bound };
export type ReadSet = { ids: Set<string>; ranges: Range[] };

// Convex's documented per-function limits (docs.convex.dev/production/state/limits), the
// same numbers convex-test enforces: what works here works on a deployment.
export const TRANSACTION_LIMITS = {
  bytesRead: 16 * 1024 * 1024,
  documentsRead: 32_000,
  databaseQueries: 4_096,
  bytesWritten: 16 * 1024 * 1024,
  documentsWritten: 16_000,
  functionsScheduled: 1_000,
  documentBytes: 1024 * 1024,
} as const;

export type Metrics = { bytesRead: number; documentsRead: number; databaseQueries: number; bytesWritten: number; documentsWritten: number; functionsScheduled: number };

/** Writes of earlier mutations not yet durable: by id, and per table for index walks. */
export type Pending = {
  get(id: string): Write | undefined;
  has(id: string): boolean;
  /** How many writes to `table` are pending. */
  sizeOf(table: string): number;
  ofTable(table: string): Iterable<Write>;
};

export type Tx = {
  readonly store: Store;
  readonly mutable: boolean;
  /**
   * Commits of earlier mutations not yet on disk (so not yet in the store), by id: a mutation
   * sees them, a query does not (it only ever sees durable data).
   */
  readonly base: Pending;
  /** Pending writes by id; `old` is the committed value (absent: inserted here). */
  readonly writes: Map<string, Write>;
  readonly reads: ReadSet;
  readonly metrics: Metrics;
};

const NOTHING_PENDING: Pending = { get: () => undefined, has: () => false, sizeOf: () => 0, ofTable: () => [] };

export function createTx(store: Store, mutable: boolean, base: Pending = NOTHING_PENDING): Tx {
  return {
    store,
    mutable,
    base,
    writes: new Map(),
    reads: { ids: new Set(), ranges: [] },
    metrics: { bytesRead: 0, documentsRead: 0, databaseQueries: 0, bytesWritten: 0, documentsWritten: 0, functionsScheduled: 0 },
  };
}

export function countRead(tx: Tx, rec: DocRec): void {
  const m = tx.metrics;
  m.documentsRead++;
  m.bytesRead += rec.json.length;
  if (m.documentsRead > TRANSACTION_LIMITS.documentsRead) {
    throw new Error(`Too many documents read in a single function execution (limit: ${TRANSACTION_LIMITS.documentsRead}). Consider using smaller limits in your queries, paginating your queries, or using indexed queries with a selective index range expressions.`);
  }
  if (m.bytesRead > TRANSACTION_LIMITS.bytesRead) {
    throw new Error(`Too many bytes read in a single function execution (limit: ${TRANSACTION_LIMITS.bytesRead} bytes). Consider using smaller limits in your queries, paginating your queries, or using indexed queries with a selective index range expressions.`);
  }
}

export function countQuery(tx: Tx): void {
  if (++tx.metrics.databaseQueries > TRANSACTION_LIMITS.databaseQueries) {
    throw new Error(`Too many reads in a single function execution (limit: ${TRANSACTION_LIMITS.databaseQueries}). Each db.get and db.query counts as one.`);
  }
}

/** A document as of the latest commit this transaction builds on (pending ones included). */
export function committedValue(tx: Tx, id: string): DocRec | undefined {
  const pending = tx.base.get(id);
  return pending ? pending.next : tx.store.get(id);
}

/** The current value of a document for this transaction; records the read. */
export function txGet(tx: Tx, id: string): DocRec | undefined {
  countQuery(tx);
  tx.reads.ids.add(id);
  const own = tx.writes.get(id);
  const rec = own ? own.next : committedValue(tx, id);
  if (rec) countRead(tx, rec);
  return rec;
}

export function txWrite(tx: Tx, table: string, id: string, next: DocRec | undefined): void {
  if (!tx.mutable) throw new Error("Can't modify the database from a query: writes need a mutation.");
  if (next && next.json.length > TRANSACTION_LIMITS.documentBytes) {
    throw new Error(`Document is too large (${next.json.length} bytes; the limit is ${TRANSACTION_LIMITS.documentBytes} bytes).`);
  }
  const m = tx.metrics;
  m.documentsWritten++;
  m.bytesWritten += next?.json.length ?? 0;
  if (m.documentsWritten > TRANSACTION_LIMITS.documentsWritten) throw new Error(`Too many documents written in a single function execution (limit: ${TRANSACTION_LIMITS.documentsWritten}).`);
  if (m.bytesWritten > TRANSACTION_LIMITS.bytesWritten) throw new Error(`Too many bytes written in a single function execution (limit: ${TRANSACTION_LIMITS.bytesWritten} bytes).`);
  const earlier = tx.writes.get(id);
  const old = earlier ? earlier.old : committedValue(tx, id);
  if (!old && !next) tx.writes.delete(id);
  else tx.writes.set(id, { table, id, ...(old ? { old } : {}), ...(next ? { next } : {}) });
}

/** -1: the key sorts before the range, 0: inside, 1: after. */
export function position(key: Key, r: Range): -1 | 0 | 1 {
  const k = r.eq.length;
  for (let i = 0; i < k; i++) {
    const c = compareValues(key[i], r.eq[i]);
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  if (r.lower) {
    const c = compareValues(key[k], r.lower.value);
    if (c < 0 || (c === 0 && !r.lower.inclusive)) return -1;
  }
  if (r.upper) {
    const c = compareValues(key[k], r.upper.value);
    if (c > 0 || (c === 0 && !r.upper.inclusive)) return 1;
  }
  return 0;
}

/** Did any of these writes change something this read set saw (or would now see)? */
export function touches(reads: ReadSet, writes: readonly Write[], store: Store): boolean {
  for (const w of writes) {
    if (reads.ids.has(w.id)) return true;
    for (const r of reads.ranges) {
      if (r.table !== w.table) continue;
      const def = store.index(r.table, r.index)?.def;
      if (!def) return true;
      if (w.old && position(keyOf(w.old.value, def), r) === 0) return true;
      if (w.next && position(keyOf(w.next.value, def), r) === 0) return true;
    }
  }
  return false;
}
