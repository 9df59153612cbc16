// Which subscriptions a commit touches, found by lookup instead of by asking each one. Every
// subscription's read set is filed under the ids it read and under its index ranges' equality
// prefixes; a written document is looked up by its id and by each prefix of its key in each
// of its table's indexes, and only the ranges found there are compared. Without this, every
// commit asked every query of every connection (100 workers registering at once: 100 commits
// × 300 queries), which made start-up quadratic in the number of workers.
import type { Value } from "convex/values";
import { keyOf, type DocRec, type Store, type Write } from "./store.ts";
import { position, type Range, type ReadSet } from "./transaction.ts";

export type ReadIndex<W> = {
  /** File `w` under `reads` (replacing what it was filed under); undefined: touched by every commit. */
  set(w: W, reads: ReadSet | undefined): void;
  delete(w: W): void;
  /** The watchers whose read sets these writes touch. */
  touched(writes: readonly Write[]): Set<W>;
  all(): Iterable<W>;
};

type Filed = { reads: ReadSet | undefined; keys: string[]; tables: string[] };

export function createReadIndex<W>(store: Store): ReadIndex<W> {
  const filed = new Map<W, Filed>();
  const byId = new Map<string, Set<W>>();
  const byPrefix = createPrefixFile<W>(store);
  // Ranges over an index the store does not know: any write to their table touches them.
  const byTable = new Map<string, Set<W>>();
  const everything = new Set<W>();

  function unfile(w: W): void {
    const f = filed.get(w);
    if (!f) return;
    filed.delete(w);
    everything.delete(w);
    for (const id of f.reads?.ids ?? []) removeFrom(byId, id, w);
    for (const k of f.keys) byPrefix.remove(k, w);
    for (const t of f.tables) removeFrom(byTable, t, w);
  }

  function set(w: W, reads: ReadSet | undefined): void {
    unfile(w);
    const f: Filed = { reads, keys: [], tables: [] };
    filed.set(w, f);
    if (!reads) {
      everything.add(w);
      return;
    }
    for (const id of reads.ids) addTo(byId, id, w);
    for (const r of reads.ranges) {
      if (!store.index(r.table, r.index)) {
        addTo(byTable, r.table, w);
        f.tables.push(r.table);
        continue;
      }
      const k = byPrefix.add(w, r);
      if (k !== undefined) f.keys.push(k);
    }
  }

  function touched(writes: readonly Write[]): Set<W> {
    const out = new Set<W>(everything);
    for (const wr of writes) {
      for (const w of byId.get(wr.id) ?? []) out.add(w);
      for (const w of byTable.get(wr.table) ?? []) out.add(w);
      if (wr.old) byPrefix.touchedBy(wr.old, wr.table, out);
      if (wr.next) byPrefix.touchedBy(wr.next, wr.table, out);
    }
    return out;
  }

  return { set, delete: unfile, touched, all: () => filed.keys() };
}

/** Index ranges filed under their equality prefix; a written document finds them through its keys. */
function createPrefixFile<W>(store: Store) {
  const byPrefix = new Map<string, Map<W, Range[]>>();
  // How many prefixes are filed per index: a write skips the indexes no read set ranges over
  // (most of them: a worker's queries read two or three of the dozen indexes it writes).
  const prefixesPerIndex = new Map<string, number>();

  function countPrefix(k: string, by: number): void {
    const index = k.slice(0, k.indexOf(SEP, k.indexOf(SEP) + 1));
    const n = (prefixesPerIndex.get(index) ?? 0) + by;
    if (n === 0) prefixesPerIndex.delete(index);
    else prefixesPerIndex.set(index, n);
  }

  return {
    /** File `r` for `w`; the prefix key when it is `w`'s first range there (to remove it by later). */
    add(w: W, r: Range): string | undefined {
      const k = prefixKey(r.table, r.index, r.eq);
      let m = byPrefix.get(k);
      if (!m) {
        byPrefix.set(k, (m = new Map()));
        countPrefix(k, 1);
      }
      const list = m.get(w);
      if (list) list.push(r);
      else {
        m.set(w, [r]);
        return k;
      }
      return undefined;
    },
    remove(k: string, w: W): void {
      const m = byPrefix.get(k);
      m?.delete(w);
      if (m?.size === 0) {
        byPrefix.delete(k);
        countPrefix(k, -1);
      }
    },
    touchedBy(rec: DocRec, table: string, out: Set<W>): void {
      for (const index of store.indexes(table)) {
        const name = `${table}${SEP}${index.def.name}`;
        if (!prefixesPerIndex.has(name)) continue;
        const key = keyOf(rec.value, index.def);
        // The prefixes of this key, each from the one before (prefixKey's text, built once).
        let parts = "";
        for (let n = 0; n <= key.length; n++) {
          if (n > 0) parts += (n > 1 ? PART : "") + encode(key[n - 1]);
          const m = byPrefix.get(`${name}${SEP}${n}${SEP}${parts}`);
          if (!m) continue;
          for (const [w, ranges] of m) if (!out.has(w) && ranges.some((r) => position(key, r) === 0)) out.add(w);
        }
      }
    },
  };
}

function addTo<K, W>(m: Map<K, Set<W>>, k: K, w: W): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(w);
}

function removeFrom<K, W>(m: Map<K, Set<W>>, k: K, w: W): void {
  const s = m.get(k);
  s?.delete(w);
  if (s?.size === 0) m.delete(k);
}

const SEP = "\u0000";
const PART = "\u0001";

function prefixKey(table: string, index: string, eq: readonly (Value | undefined)[]): string {
  return `${table}${SEP}${index}${SEP}${eq.length}${SEP}${eq.map(encode).join(PART)}`;
}

/** Equal text exactly when compareValues says equal (so -0 and 0, NaN and NaN, object key order). */
export function encode(v: Value | undefined): string {
  if (v === undefined) return "u";
  if (v === null) return "n";
  if (typeof v === "bigint") return `i${v}`;
  if (typeof v === "number") return Number.isNaN(v) ? "fNaN" : `f${v === 0 ? 0 : v}`;
  if (typeof v === "boolean") return v ? "b1" : "b0";
  if (typeof v === "string") return `s${JSON.stringify(v)}`;
  if (v instanceof ArrayBuffer) return `x${Buffer.from(v).toString("hex")}`;
  if (Array.isArray(v)) return `[${v.map(encode).join(",")}]`;
  const entries = Object.entries(v as Record<string, Value>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${encode(x)}`).join(",")}}`;
}
