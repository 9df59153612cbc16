// The committed data in memory: documents per table, and per index a sorted array of keys,
// so an indexed read touches only its range (binary search to the start, then walk).
// Every index key ends with _creationTime and _id, like Convex's, which makes keys unique.
import type { Value } from "convex/values";
import { newId, tableNumberOf } from "./ids.ts";
import { compareKeys, fieldValue, type Key } from "./values.ts";
import type { ValidatorJson } from "./validator.ts";

export type Doc = Record<string, Value> & { _id: string; _creationTime: number };
/** A committed document: its value and its Convex-JSON text (what a read returns, and its size). */
export type DocRec = { readonly id: string; readonly table: string; readonly value: Doc; readonly json: string };
export type IndexDef = { readonly table: string; readonly name: string; readonly fields: readonly string[] };
export type IndexEntry = { readonly key: Key; readonly id: string };
export type Index = { readonly def: IndexDef; readonly entries: IndexEntry[] };
/** One document's change in a commit: `old` before, `next` after (absent = did not exist). */
export type Write = { table: string; id: string; old?: DocRec; next?: DocRec };

export type TableSchema = { name: string; indexes: { name: string; fields: string[] }[]; documentType?: ValidatorJson };
export type SchemaInfo = { tables: Map<string, TableSchema>; validate: boolean; strictTables: boolean };

export const SCHEDULED_TABLE = "_scheduled_functions";
export const CRON_TABLE = "_cron_jobs";

const SYSTEM_TABLES: TableSchema[] = [
  { name: SCHEDULED_TABLE, indexes: [{ name: "by_state_time", fields: ["state.kind", "scheduledTime"] }] },
  { name: CRON_TABLE, indexes: [{ name: "by_name", fields: ["name"] }] },
];

type SchemaExport = {
  tables: { tableName: string; indexes: { indexDescriptor: string; fields: string[] }[]; documentType: ValidatorJson | null }[];
  schemaValidation: boolean;
};

export function schemaInfo(schema: { export(): string } | undefined): SchemaInfo {
  const tables = new Map<string, TableSchema>();
  for (const t of SYSTEM_TABLES) tables.set(t.name, t);
  if (!schema) return { tables, validate: false, strictTables: false };
  const exported = JSON.parse(schema.export()) as SchemaExport;
  for (const t of exported.tables) {
    tables.set(t.tableName, {
      name: t.tableName,
      indexes: t.indexes.map((i) => ({ name: i.indexDescriptor, fields: i.fields })),
      ...(t.documentType ? { documentType: t.documentType } : {}),
    });
  }
  return { tables, validate: exported.schemaValidation !== false, strictTables: true };
}

export function keyOf(doc: Doc, def: IndexDef): Key {
  return def.fields.map((f) => fieldValue(doc, f));
}

/** First position whose entry is not `before` (entries sorted; `before` true then false). */
export function lowerBound(entries: readonly IndexEntry[], before: (e: IndexEntry) => boolean): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(entries[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

type Table = { name: string; number: number; docs: Map<string, DocRec>; indexes: Map<string, Index>; indexList: Index[] };

export type Store = {
  readonly schema: SchemaInfo;
  /** The table's number (assigned on first use); `fresh` lists numbers not yet persisted. */
  tableNumber(table: string): number;
  takeFreshTableNumbers(): [string, number][];
  /** Numbers taken for a commit that then failed: persist them with a later one. */
  returnFreshTableNumbers(numbers: [string, number][]): void;
  tableOf(id: string): string | undefined;
  newId(table: string): string;
  get(id: string): DocRec | undefined;
  index(table: string, name: string): Index | undefined;
  /** The table's indexes (the same array each time: not to be changed). */
  indexes(table: string): readonly Index[];
  hasTable(table: string): boolean;
  size(table: string): number;
  apply(writes: Iterable<Write>): void;
};

export function createStore(schema: SchemaInfo, knownNumbers: Iterable<[string, number]> = []): Store {
  const tables = new Map<string, Table>();
  const byNumber = new Map<number, string>();
  const numbers = new Map<string, number>(knownNumbers);
  for (const [name, n] of numbers) byNumber.set(n, name);
  let fresh: [string, number][] = [];

  function tableNumber(name: string): number {
    let n = numbers.get(name);
    if (n === undefined) {
      n = numbers.size === 0 ? 1 : Math.max(...numbers.values()) + 1;
      numbers.set(name, n);
      byNumber.set(n, name);
      fresh.push([name, n]);
    }
    return n;
  }

  function table(name: string): Table {
    let t = tables.get(name);
    if (t) return t;
    const indexes = new Map(indexDefs(schema, name).map((d) => [d.name, { def: d, entries: [] }]));
    t = { name, number: tableNumber(name), docs: new Map(), indexes, indexList: [...indexes.values()] };
    tables.set(name, t);
    return t;
  }
  for (const name of schema.tables.keys()) table(name);

  return {
    schema,
    tableNumber,
    takeFreshTableNumbers() {
      const out = fresh;
      fresh = [];
      return out;
    },
    returnFreshTableNumbers(numbers) {
      fresh = [...numbers, ...fresh];
    },
    tableOf(id) {
      const n = tableNumberOf(id);
      return n === undefined ? undefined : byNumber.get(n);
    },
    newId: (name) => newId(table(name).number),
    get(id) {
      const name = this.tableOf(id);
      return name === undefined ? undefined : tables.get(name)?.docs.get(id);
    },
    index: (name, index) => (schema.strictTables && !schema.tables.has(name) && !tables.has(name) ? undefined : table(name).indexes.get(index)),
    indexes: (name) => table(name).indexList,
    hasTable: (name) => tables.has(name) || schema.tables.has(name),
    size: (name) => tables.get(name)?.docs.size ?? 0,
    apply(writes) {
      for (const w of writes) applyWrite(table(w.table), w);
    },
  };
}

/** The table's indexes: the two every table has, then the schema's. */
function indexDefs(schema: SchemaInfo, name: string): IndexDef[] {
  return [
    { table: name, name: "by_id", fields: ["_id"] },
    { table: name, name: "by_creation_time", fields: ["_creationTime", "_id"] },
    ...(schema.tables.get(name)?.indexes ?? []).map((i) => ({ table: name, name: i.name, fields: [...i.fields, "_creationTime", "_id"] })),
  ];
}

function applyWrite(t: Table, w: Write): void {
  for (const index of t.indexList) {
    const oldKey = w.old && keyOf(w.old.value, index.def);
    const newKey = w.next && keyOf(w.next.value, index.def);
    // A patch leaves most index keys as they were: the entry stays where it is.
    if (oldKey && newKey && compareKeys(oldKey, newKey) === 0) continue;
    if (oldKey) removeEntry(index, oldKey);
    if (newKey) insertEntry(index, { key: newKey, id: w.id });
  }
  if (w.next) t.docs.set(w.id, w.next);
  else t.docs.delete(w.id);
}

function removeEntry(index: Index, key: Key): void {
  const at = lowerBound(index.entries, (e) => compareKeys(e.key, key) < 0);
  if (at < index.entries.length && compareKeys(index.entries[at]!.key, key) === 0) index.entries.splice(at, 1);
}

function insertEntry(index: Index, entry: IndexEntry): void {
  const at = lowerBound(index.entries, (e) => compareKeys(e.key, entry.key) < 0);
  index.entries.splice(at, 0, entry);
}
