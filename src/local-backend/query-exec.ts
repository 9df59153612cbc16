// Running `ctx.db.query(…)`: pick the index (by_creation_time for a table scan), turn the
// range expressions into one key range, and walk it in order from a cursor. The walk
// re-seeks from the last key on every step, so commits between steps never confuse it;
// in a mutation its own pending writes are merged in.
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { evaluate, type Expr } from "./filter.ts";
import { keyOf, lowerBound, type DocRec, type Index, type Write } from "./store.ts";
import { countQuery, countRead, position, type Range, type Tx } from "./transaction.ts";
import { compareKeys, type Key } from "./values.ts";

type RangeExpr = { type: "Eq" | "Gt" | "Gte" | "Lt" | "Lte"; fieldPath: string; value: JSONValue };
type Source =
  | { type: "FullTableScan"; tableName: string; order: "asc" | "desc" | null }
  | { type: "IndexRange"; indexName: string; range: RangeExpr[]; order: "asc" | "desc" | null }
  | { type: "Search"; indexName: string };
export type SerializedQuery = { source: Source; operators: ({ filter: Expr } | { limit: number })[] };

export type QueryStream = {
  readonly tx: Tx;
  readonly index: Index | undefined;
  readonly range: Range;
  readonly desc: boolean;
  readonly operators: SerializedQuery["operators"];
  readonly passed: number[];
  cursor?: Key;
  done: boolean;
};

function fromJson(v: JSONValue): Value | undefined {
  if (v !== null && typeof v === "object" && !Array.isArray(v) && "$undefined" in v) return undefined;
  return jsonToConvex(v);
}

function rangeFor(index: Index, exprs: RangeExpr[], indexName: string): Range {
  const fields = index.def.fields;
  const eq: Key = [];
  let i = 0;
  let rest = [...exprs];
  for (; i < fields.length; i++) {
    const at = rest.findIndex((e) => e.type === "Eq" && e.fieldPath === fields[i]);
    if (at === -1) break;
    eq.push(fromJson(rest[at]!.value));
    rest.splice(at, 1);
  }
  const range: Range = { table: index.def.table, index: index.def.name, eq };
  for (const e of rest) {
    if (e.fieldPath !== fields[i] || e.type === "Eq") {
      throw new Error(`Uh oh! Index range for ${indexName} does not follow the index's field order (${fields.slice(0, -2).join(", ")}): compare fields in order, equality first.`);
    }
    const bound = { value: fromJson(e.value), inclusive: e.type === "Gte" || e.type === "Lte" };
    if (e.type === "Gt" || e.type === "Gte") range.lower = bound;
    else range.upper = bound;
  }
  return range;
}

export function openQuery(tx: Tx, query: SerializedQuery): QueryStream {
  countQuery(tx);
  const src = query.source;
  if (src.type === "Search") throw new Error("Search indexes are not supported by the embedded backend");
  let table: string;
  let index: Index | undefined;
  let range: Range;
  if (src.type === "FullTableScan") {
    table = src.tableName;
    index = tx.store.index(table, "by_creation_time");
    range = { table, index: "by_creation_time", eq: [] };
  } else {
    const dot = src.indexName.indexOf(".");
    table = src.indexName.slice(0, dot);
    const name = src.indexName.slice(dot + 1);
    index = tx.store.index(table, name);
    if (!index && tx.store.hasTable(table)) throw new Error(`Index ${src.indexName} not found.`);
    range = index ? rangeFor(index, src.range, src.indexName) : { table, index: name, eq: [] };
  }
  if (index) tx.reads.ranges.push(range);
  return { tx, index, range, desc: src.order === "desc", operators: query.operators, passed: query.operators.map(() => 0), done: !index };
}

type Candidate = { key: Key; rec: DocRec };

function committedNext(s: QueryStream): Candidate | undefined {
  const entries = s.index!.entries;
  const { range, cursor, tx } = s;
  if (!s.desc) {
    let i = lowerBound(entries, (e) => position(e.key, range) < 0 || (cursor !== undefined && compareKeys(e.key, cursor) <= 0));
    for (; i < entries.length; i++) {
      const e = entries[i]!;
      if (position(e.key, range) > 0) return undefined;
      if (!tx.writes.has(e.id) && !tx.base.has(e.id)) return { key: e.key, rec: tx.store.get(e.id)! };
    }
    return undefined;
  }
  let j = lowerBound(entries, (e) => !(position(e.key, range) > 0 || (cursor !== undefined && compareKeys(e.key, cursor) >= 0))) - 1;
  for (; j >= 0; j--) {
    const e = entries[j]!;
    if (position(e.key, range) < 0) return undefined;
    if (!tx.writes.has(e.id) && !tx.base.has(e.id)) return { key: e.key, rec: tx.store.get(e.id)! };
  }
  return undefined;
}

function pendingNext(s: QueryStream): Candidate | undefined {
  let best: Candidate | undefined;
  const def = s.index!.def;
  const consider = (w: Write) => {
    if (!w.next || w.table !== def.table) return;
    const key = keyOf(w.next.value, def);
    if (position(key, s.range) !== 0) return;
    if (s.cursor !== undefined && (s.desc ? compareKeys(key, s.cursor) >= 0 : compareKeys(key, s.cursor) <= 0)) return;
    if (!best || (s.desc ? compareKeys(key, best.key) > 0 : compareKeys(key, best.key) < 0)) best = { key, rec: w.next };
  };
  for (const w of s.tx.writes.values()) consider(w);
  for (const w of s.tx.base.ofTable(def.table)) if (!s.tx.writes.has(w.id)) consider(w);
  return best;
}

function candidate(s: QueryStream): Candidate | undefined {
  const a = committedNext(s);
  if (s.tx.writes.size === 0 && s.tx.base.sizeOf(s.range.table) === 0) return a;
  const b = pendingNext(s);
  if (!a || !b) return a ?? b;
  const c = compareKeys(a.key, b.key);
  return (s.desc ? c > 0 : c < 0) ? a : b;
}

/** The next document the query yields, or undefined at its end. */
export function nextDoc(s: QueryStream): DocRec | undefined {
  outer: for (;;) {
    if (s.done) return undefined;
    const c = candidate(s);
    if (!c) {
      s.done = true;
      return undefined;
    }
    s.cursor = c.key;
    countRead(s.tx, c.rec);
    for (let i = 0; i < s.operators.length; i++) {
      const op = s.operators[i]!;
      if ("filter" in op) {
        if (evaluate(op.filter, c.rec.value) !== true) continue outer;
      } else {
        if (s.passed[i]! >= op.limit) {
          s.done = true;
          return undefined;
        }
        s.passed[i]!++;
      }
    }
    return c.rec;
  }
}

// Cursors are the last key read, encoded; undefined (a missing field) has no Convex JSON.
export function encodeCursor(key: Key): string {
  return JSON.stringify(key.map((v) => (v === undefined ? { $undefined: null } : convexToJson(v))));
}

export function decodeCursor(cursor: string): Key {
  let parsed: unknown;
  try {
    parsed = JSON.parse(cursor);
  } catch {
    throw new Error("Invalid pagination cursor: it did not come from this query");
  }
  if (!Array.isArray(parsed)) throw new Error("Invalid pagination cursor: it did not come from this query");
  return parsed.map((v) => fromJson(v as JSONValue));
}
