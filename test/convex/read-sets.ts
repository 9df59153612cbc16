// Convex re-runs a subscription when a commit writes a document the query read, or one that
// falls (before or after the write) into an index range it read. These helpers record a
// function's read set and a mutation's writes through a wrapped ctx.db, so a test can check
// which writes re-run which subscriptions, as a real deployment decides it.
import type { GenericDatabaseReader, GenericDatabaseWriter, RegisteredMutation, RegisteredQuery } from "convex/server";
import type { DataModel } from "../../convex/lib/server.ts";
import schema from "../../convex/schema.ts";
import type { Backend } from "./setup.ts";

type Op = "eq" | "lt" | "lte" | "gt" | "gte";
type Bound = { op: Op; field: string; value: unknown };
type Doc = Record<string, unknown>;
/**
 * An index range read. A read that stopped early (take, first, a loop that broke off) covers
 * the range only up to the last document it got, as Convex's read sets do.
 */
type Range = { table: string; bounds: Bound[]; keyFields: string[]; desc: boolean; last: Doc | null; complete: boolean };
export type ReadSet = { ids: Set<string>; ranges: Range[] };
export type Write = { table: string; id: string; before: Doc | null; after: Doc | null };

type Db = GenericDatabaseWriter<DataModel>;
type AnyFn = (...args: unknown[]) => unknown;

function rangeRecorder(bounds: Bound[]): unknown {
  const q: Record<Op, (field: string, value: unknown) => unknown> = {} as never;
  for (const op of ["eq", "lt", "lte", "gt", "gte"] as const) {
    q[op] = (field, value) => {
      bounds.push({ op, field, value });
      return q;
    };
  }
  return q;
}

/** ctx.db that records what is read into `rs`. */
export function readRecorder(db: GenericDatabaseReader<DataModel>, rs: ReadSet): Db {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "get") {
        return async (id: string) => {
          rs.ids.add(id);
          return await (target.get as AnyFn)(id);
        };
      }
      if (prop === "query") {
        return (table: string) => {
          const real = (target.query as AnyFn)(table) as Record<string | symbol, unknown>;
          return new Proxy(real, {
            get(q, p) {
              const value = q[p];
              if (typeof value !== "function") return value;
              if (p === "withIndex") {
                return (index: string, fn?: (q: unknown) => unknown) => {
                  const bounds: Bound[] = [];
                  if (fn) fn(rangeRecorder(bounds));
                  const range = { table, bounds, keyFields: indexFields(table, index), desc: false, last: null, complete: false };
                  rs.ranges.push(range);
                  return trackReads((value as AnyFn).call(q, index, fn) as Record<string | symbol, unknown>, range);
                };
              }
              // Anything else without an index reads the whole table.
              return (...args: unknown[]) => {
                rs.ranges.push({ table, bounds: [], keyFields: [], desc: false, last: null, complete: true });
                return (value as AnyFn).apply(q, args);
              };
            },
          });
        };
      }
      const value = (target as unknown as Record<string | symbol, unknown>)[prop];
      return typeof value === "function" ? (value as AnyFn).bind(target) : value;
    },
  }) as Db;
}

function indexFields(table: string, index: string): string[] {
  const definition = (schema.tables as Record<string, { " indexes"(): { indexDescriptor: string; fields: string[] }[] }>)[table]!;
  const found = definition[" indexes"]().find((i) => i.indexDescriptor === index);
  if (!found) throw new Error(`no index ${table}.${index}`);
  return found.fields;
}

/** Follows a query after withIndex and records how far into its range it read. */
function trackReads(query: Record<string | symbol, unknown>, range: Range): unknown {
  const upTo = (docs: Doc[], asked: number) => {
    if (docs.length < asked) range.complete = true;
    else range.last = docs.at(-1) ?? range.last;
  };
  return new Proxy(query, {
    get(q, p) {
      const value = q[p];
      if (typeof value !== "function") return value;
      const call = (...args: unknown[]) => (value as AnyFn).apply(q, args);
      switch (p) {
        case "order":
          return (order: string) => {
            range.desc = order === "desc";
            return trackReads(call(order) as Record<string | symbol, unknown>, range);
          };
        case "take":
          return async (n: number) => {
            const docs = (await call(n)) as Doc[];
            upTo(docs, n);
            return docs;
          };
        case "first":
          return async () => {
            const doc = (await call()) as Doc | null;
            upTo(doc ? [doc] : [], 1);
            return doc;
          };
        case Symbol.asyncIterator:
          return () => {
            const it = call() as AsyncIterator<Doc>;
            return {
              async next() {
                const r = await it.next();
                if (r.done) range.complete = true;
                else range.last = r.value;
                return r;
              },
            };
          };
        default:
          // collect, unique, filter, paginate: count the whole range as read.
          return (...args: unknown[]) => {
            range.complete = true;
            return call(...args);
          };
      }
    },
  });
}

function tableOf(db: Db, id: string): string {
  for (const table of Object.keys(schema.tables)) {
    if (db.normalizeId(table as never, id)) return table;
  }
  throw new Error(`no table for id ${id}`);
}

/** ctx.db that records every write (with the document before and after) into `writes`. */
export function writeRecorder(db: Db, writes: Write[]): Db {
  const get = async (id: string) => (await (db.get as AnyFn)(id)) as Record<string, unknown> | null;
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "insert") {
        return async (table: string, value: unknown) => {
          const id = (await (target.insert as AnyFn)(table, value)) as string;
          writes.push({ table, id, before: null, after: await get(id) });
          return id;
        };
      }
      if (prop === "patch" || prop === "replace" || prop === "delete") {
        return async (id: string, value?: unknown) => {
          const before = await get(id);
          await (target[prop] as AnyFn)(id, value);
          writes.push({ table: tableOf(target, id), id, before, after: prop === "delete" ? null : await get(id) });
        };
      }
      const value = (target as unknown as Record<string | symbol, unknown>)[prop];
      return typeof value === "function" ? (value as AnyFn).bind(target) : value;
    },
  }) as Db;
}

// Convex's order across types: undefined < null < number < boolean < string.
function rank(v: unknown): number {
  if (v === undefined) return 0;
  if (v === null) return 1;
  return { number: 2, bigint: 2, boolean: 3, string: 4 }[typeof v as string] ?? 5;
}
function compareKeys(a: unknown[], b: unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compare(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

function compare(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

function inRange(range: Range, table: string, doc: Doc | null): boolean {
  if (!doc || range.table !== table) return false;
  const inBounds = range.bounds.every(({ op, field, value }) => {
    const c = compare(doc[field], value);
    return { eq: c === 0, lt: c < 0, lte: c <= 0, gt: c > 0, gte: c >= 0 }[op];
  });
  if (!inBounds) return false;
  if (range.complete) return true;
  // Set up but never read from: nothing of the range is in the read set.
  if (range.last === null) return false;
  const key = (d: Doc) => [...range.keyFields.map((f) => d[f]), d._creationTime];
  const c = compareKeys(key(doc), key(range.last));
  return range.desc ? c >= 0 : c <= 0;
}

/** The writes that would re-run a subscription with this read set. */
export function invalidating(rs: ReadSet, writes: Write[]): Write[] {
  return writes.filter((w) => rs.ids.has(w.id) || rs.ranges.some((r) => inRange(r, w.table, w.before) || inRange(r, w.table, w.after)));
}

type Handler = { _handler: (ctx: unknown, args: unknown) => Promise<unknown> };

/** The read set of a query run with these arguments, as a subscription to it would have. */
export async function readSetOf(t: Backend, fn: RegisteredQuery<"public", any, any>, args: unknown): Promise<ReadSet> {
  const rs: ReadSet = { ids: new Set(), ranges: [] };
  await t.run(async (ctx) => {
    await (fn as unknown as Handler)._handler({ ...ctx, db: readRecorder(ctx.db, rs) }, args);
  });
  return rs;
}

/** What a mutation run with these arguments writes. */
export async function writesOf(t: Backend, fn: RegisteredMutation<"public", any, any>, args: unknown): Promise<Write[]> {
  const writes: Write[] = [];
  await t.run(async (ctx) => {
    await (fn as unknown as Handler)._handler({ ...ctx, db: writeRecorder(ctx.db, writes) }, args);
  });
  return writes;
}
