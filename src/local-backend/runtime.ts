// Running registered functions with the `convex/server` builders' own entry points
// (invokeQuery / invokeMutation / invokeAction). Those call the global `Convex.syscall` /
// `Convex.asyncSyscall`; each call is routed to the execution it came from through an
// AsyncLocalStorage, so concurrent queries, one mutation and many actions never mix.
import { AsyncLocalStorage } from "node:async_hooks";
import type { UserIdentity } from "convex/server";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { failureFromError } from "./failure.ts";
import type { FunctionKind } from "./functions.ts";
import { withLogSink } from "./log-capture.ts";
import { docRec } from "./persistence.ts";
import { decodeCursor, encodeCursor, nextDoc, openQuery, type QueryStream, type SerializedQuery } from "./query-exec.ts";
import { SCHEDULED_TABLE, type Doc, type Store } from "./store.ts";
import { TRANSACTION_LIMITS, txGet, txWrite, type Tx } from "./transaction.ts";
import { mismatch, mismatchMessage, type ValidatorJson } from "./validator.ts";

/** Who is calling: admins (holders of the admin key) may call internal functions. */
export type Caller = { admin: boolean; identity?: Partial<UserIdentity> };

export type Registered = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isPublic?: boolean;
  invokeQuery?(args: string): Promise<string>;
  invokeMutation?(args: string): Promise<string>;
  invokeAction?(requestId: string, args: string): Promise<string>;
  exportArgs?(): string;
  exportReturns?(): string;
};

/** A function failed: the message and ConvexError data travel as the client expects. */
export class FunctionFailure extends Error {
  readonly data?: JSONValue;
  constructor(message: string, data?: JSONValue) {
    super(message);
    if (data !== undefined) this.data = data;
  }
}

/** What the engine provides to running functions beyond their own transaction. */
export type Host = {
  readonly store: Store;
  lookup(udfPath: string): Promise<{ udfPath: string; kind: FunctionKind; fn: Registered } | undefined>;
  /** Top-level calls from an action: each its own transaction. */
  runQuery(udfPath: string, args: Record<string, Value>, caller: Caller, lines: string[]): Promise<Value>;
  runMutation(udfPath: string, args: Record<string, Value>, caller: Caller, lines: string[]): Promise<Value>;
  runAction(udfPath: string, args: Record<string, Value>, caller: Caller, lines: string[]): Promise<Value>;
  /** Schedule from an action (its own small transaction). */
  scheduleOutside(job: Record<string, Value>): Promise<string>;
  cancelOutside(id: string): Promise<void>;
  creationTime(): number;
};

type Execution = {
  host: Host;
  kind: FunctionKind;
  tx?: Tx;
  caller: Caller;
  lines: string[];
  streams: Map<number, QueryStream>;
};

const running = new AsyncLocalStorage<Execution>();
let nextStreamId = 1;

function execution(op: string): Execution {
  const e = running.getStore();
  if (!e) throw new Error(`Convex syscall ${op} outside of a function run by the embedded backend`);
  return e;
}

function txOf(e: Execution, op: string): Tx {
  if (!e.tx) throw new Error(`${op} is not available in an action: use ctx.runQuery / ctx.runMutation`);
  return e.tx;
}

function idArg(v: JSONValue | undefined): string {
  if (typeof v !== "string") throw new Error(`Invalid document id: ${JSON.stringify(v)}`);
  return v;
}

function checkTable(store: Store, id: string, table: string | undefined): string {
  const actual = store.tableOf(id);
  if (actual === undefined) throw new Error(`Invalid argument \`id\`: "${id}" is not a document id`);
  if (table !== undefined && table !== actual) throw new Error(`Invalid argument \`id\`: "${id}" is an id of table "${actual}", not "${table}"`);
  return actual;
}

function validateDoc(store: Store, table: string, value: Doc): void {
  const t = store.schema.tables.get(table);
  if (!t) {
    if (store.schema.strictTables && !table.startsWith("_")) throw new Error(`Failed to insert or update a document in table "${table}" because the table is not in the schema.`);
    return;
  }
  if (!store.schema.validate || !t.documentType) return;
  const { _id, _creationTime, ...fields } = value;
  const m = mismatch(fields, t.documentType, (id) => store.tableOf(id));
  if (m) throw new Error(mismatchMessage(`Failed to insert or update a document in table "${table}" because it does not match the schema`, m, fields));
}

function writeDoc(e: Execution, table: string, value: Doc): void {
  const tx = txOf(e, "writing");
  validateDoc(tx.store, table, value);
  txWrite(tx, table, value._id, docRec(table, value));
}

function userFields(value: JSONValue): Record<string, Value> {
  const v = jsonToConvex(value);
  if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof ArrayBuffer) throw new Error("A document must be an object");
  for (const k of Object.keys(v)) if (k.startsWith("_")) throw new Error(`Field names starting with "_" are reserved for system fields: ${k}`);
  return v as Record<string, Value>;
}

function insert(e: Execution, table: string, fields: Record<string, Value>): string {
  const tx = txOf(e, "db.insert");
  const _id = tx.store.newId(table);
  writeDoc(e, table, { ...fields, _id, _creationTime: e.host.creationTime() });
  return _id;
}

function scheduleJob(e: Execution, a: Record<string, JSONValue>): Promise<string> | string {
  const name = a.name;
  if (typeof name !== "string") throw new Error("Scheduling needs a function reference by name (function handles are not supported)");
  const job = { name, args: [jsonToConvex(a.args ?? {})] as Value[], scheduledTime: Number(a.ts) * 1000, state: { kind: "pending" } };
  if (!e.tx) return e.host.scheduleOutside(job);
  if (++e.tx.metrics.functionsScheduled > TRANSACTION_LIMITS.functionsScheduled) {
    throw new Error(`Too many functions scheduled in a single function execution (limit: ${TRANSACTION_LIMITS.functionsScheduled}).`);
  }
  return insert(e, SCHEDULED_TABLE, job);
}

function cancelJob(e: Execution, id: string): Promise<void> | void {
  if (!e.tx) return e.host.cancelOutside(id);
  const rec = txGet(e.tx, id);
  if (!rec || rec.table !== SCHEDULED_TABLE) return;
  const state = (rec.value.state as { kind: string }).kind;
  if (state === "pending" || state === "inProgress") writeDoc(e, SCHEDULED_TABLE, { ...rec.value, state: { kind: "canceled" }, completedTime: Date.now() });
}

function functionName(a: Record<string, JSONValue>): string {
  const name = a.name ?? a.reference;
  if (typeof name !== "string") throw new Error("Calling a function by handle is not supported by the embedded backend");
  return name;
}

function queryPage(e: Execution, a: Record<string, JSONValue>): JSONValue {
  const tx = txOf(e, "paginate");
  const stream = openQuery(tx, a.query as unknown as SerializedQuery);
  if (typeof a.cursor === "string" && a.cursor !== "") stream.cursor = decodeCursor(a.cursor);
  const end = typeof a.endCursor === "string" ? decodeCursor(a.endCursor) : undefined;
  const pageSize = Number(a.pageSize);
  const page: JSONValue[] = [];
  let isDone = false;
  for (;;) {
    if (end === undefined && page.length >= pageSize) break;
    const rec = nextDoc(stream);
    if (!rec) {
      isDone = true;
      break;
    }
    page.push(JSON.parse(rec.json) as JSONValue);
    if (end !== undefined && stream.cursor && encodeCursor(stream.cursor) === a.endCursor) break;
  }
  const continueCursor = stream.cursor ? encodeCursor(stream.cursor) : typeof a.cursor === "string" ? a.cursor : "[]";
  return { page, isDone, continueCursor, splitCursor: null, pageStatus: null };
}

function syncSyscall(op: string, a: Record<string, JSONValue>): JSONValue {
  const e = execution(op);
  switch (op) {
    case "1.0/queryStream": {
      const stream = openQuery(txOf(e, "db.query"), a.query as unknown as SerializedQuery);
      const queryId = nextStreamId++;
      e.streams.set(queryId, stream);
      return { queryId };
    }
    case "1.0/queryCleanup":
      return e.streams.delete(Number(a.queryId));
    case "1.0/db/normalizeId": {
      const id = String(a.idString);
      return { id: e.host.store.tableOf(id) === a.table ? id : null };
    }
    default:
      throw new Error(`${op} is not supported by the embedded backend`);
  }
}

/** A syscall result already in JSON text (a stored document's), passed on without re-encoding. */
class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

async function asyncSyscall(op: string, a: Record<string, JSONValue>): Promise<JSONValue | RawJson> {
  const e = execution(op);
  const { host } = e;
  switch (op) {
    case "1.0/get": {
      const id = idArg(a.id);
      const table = host.store.tableOf(id);
      if (table === undefined || (typeof a.table === "string" && a.table !== table)) return null;
      const rec = txGet(txOf(e, "db.get"), id);
      return rec ? new RawJson(rec.json) : null;
    }
    case "1.0/insert": {
      const table = String(a.table);
      if (table.startsWith("_")) throw new Error("System tables (prefixed with `_`) are read-only.");
      return { _id: insert(e, table, userFields(a.value ?? null)) };
    }
    case "1.0/shallowMerge":
    case "1.0/replace":
      updateDoc(e, op === "1.0/replace" ? "replace" : "merge", a);
      return null;
    case "1.0/remove":
      removeDoc(e, a);
      return null;
    case "1.0/queryStreamNext":
      return streamNext(e, Number(a.queryId));
    case "1.0/queryPage":
      return queryPage(e, a);
    case "1.0/count":
      return countDocs(e, String(a.table));
    case "1.0/getUserIdentity":
      return (e.caller.identity as JSONValue | undefined) ?? null;
    case "1.0/runUdf":
      return runNested(e, String(a.udfType), functionName(a), a.args ?? {});
    case "1.0/schedule":
    case "1.0/actions/schedule":
      return scheduleJob(e, a);
    case "1.0/cancel_job":
    case "1.0/actions/cancel_job":
      await cancelJob(e, idArg(a.id));
      return null;
    case "1.0/actions/query":
    case "1.0/actions/mutation":
    case "1.0/actions/action": {
      const args = jsonToConvex(a.args ?? {}) as Record<string, Value>;
      const run = op === "1.0/actions/query" ? host.runQuery : op === "1.0/actions/mutation" ? host.runMutation : host.runAction;
      return convexToJson(await run(functionName(a), args, e.caller, e.lines));
    }
    default:
      throw new Error(`${op} is not supported by the embedded backend`);
  }
}

// db.patch (a shallow merge: `$undefined` removes a field) and db.replace.
function updateDoc(e: Execution, how: "merge" | "replace", a: Record<string, JSONValue>): void {
  const tx = txOf(e, "db.patch");
  const id = idArg(a.id);
  const table = checkTable(e.host.store, id, typeof a.table === "string" ? a.table : undefined);
  if (table.startsWith("_")) throw new Error("System tables (prefixed with `_`) are read-only.");
  const current = txGet(tx, id);
  if (!current) throw new Error(`Update on nonexistent document ID ${id}`);
  const patch = a.value as Record<string, JSONValue>;
  let fields: Record<string, Value>;
  if (how === "replace") fields = userFields(patch);
  else {
    const { _id, _creationTime, ...rest } = current.value;
    fields = { ...rest };
    for (const [k, v] of Object.entries(patch ?? {})) {
      if (k === "_id" || k === "_creationTime") continue;
      if (v !== null && typeof v === "object" && !Array.isArray(v) && "$undefined" in v) delete fields[k];
      else fields[k] = jsonToConvex(v);
    }
  }
  writeDoc(e, table, { ...fields, _id: id, _creationTime: current.value._creationTime });
}

function removeDoc(e: Execution, a: Record<string, JSONValue>): void {
  const tx = txOf(e, "db.delete");
  const id = idArg(a.id);
  const table = checkTable(e.host.store, id, typeof a.table === "string" ? a.table : undefined);
  if (table.startsWith("_")) throw new Error("System tables (prefixed with `_`) are read-only.");
  if (!txGet(tx, id)) throw new Error(`Delete on nonexistent document ID ${id}`);
  txWrite(tx, table, id, undefined);
}

/** The next document of a query stream; the stream is closed once it is done. */
function streamNext(e: Execution, queryId: number): JSONValue | RawJson {
  const stream = e.streams.get(queryId);
  if (!stream) throw new Error("This query is closed and can't emit any more values.");
  const rec = nextDoc(stream);
  if (!rec) {
    e.streams.delete(queryId);
    return { value: null, done: true };
  }
  return new RawJson(`{"value":${rec.json},"done":false}`);
}

function countDocs(e: Execution, table: string): number {
  const tx = txOf(e, "count");
  const stream = openQuery(tx, { source: { type: "FullTableScan", tableName: table, order: null }, operators: [] });
  let n = 0;
  while (nextDoc(stream)) n++;
  return n;
}

// ctx.runQuery / ctx.runMutation inside a query or mutation: same transaction; a nested
// mutation that fails takes back only its own writes.
async function runNested(parent: Execution, udfType: string, name: string, args: JSONValue): Promise<JSONValue> {
  const found = await parent.host.lookup(name);
  const kind: FunctionKind = udfType === "mutation" ? "mutation" : "query";
  if (!found || found.kind !== kind) throw new Error(`Could not find ${kind} '${name}'`);
  const tx = txOf(parent, "runUdf");
  if (kind === "mutation" && !tx.mutable) throw new Error("A query cannot run a mutation");
  const saved = new Map(tx.writes);
  try {
    const value = await execute(found.fn, kind, jsonToConvex(args) as Record<string, Value>, { ...parent, kind, streams: new Map() });
    return convexToJson(value);
  } catch (e) {
    if (kind === "mutation") {
      tx.writes.clear();
      for (const [k, w] of saved) tx.writes.set(k, w);
    }
    const f = failureFromError(e);
    throw new FunctionFailure(f.errorMessage.replace(/^Uncaught (ConvexError: )?/, ""), f.errorData);
  }
}

type ConvexGlobal = {
  syscall(op: string, args: string): string;
  asyncSyscall(op: string, args: string): Promise<string>;
  jsSyscall(op: string, args: Record<string, unknown>): unknown;
};

/**
 * The global we replaced: tests run convex-test in the same process, which installs its own once
 * and never again. A syscall from outside our executions is its, and goes back to it.
 */
let displaced: ConvexGlobal | undefined;

const convexGlobal: ConvexGlobal = {
  syscall(op, args) {
    if (!running.getStore() && displaced) return displaced.syscall(op, args);
    return JSON.stringify(syncSyscall(op, JSON.parse(args) as Record<string, JSONValue>));
  },
  async asyncSyscall(op, args) {
    if (!running.getStore() && displaced) return displaced.asyncSyscall(op, args);
    const result = await asyncSyscall(op, JSON.parse(args) as Record<string, JSONValue>);
    return result instanceof RawJson ? result.text : JSON.stringify(result);
  },
  jsSyscall(op, args) {
    if (!running.getStore() && displaced) return displaced.jsSyscall(op, args);
    throw new Error(`${op} is not supported by the embedded backend`);
  },
};

function installConvexGlobal(): void {
  const g = globalThis as { Convex?: ConvexGlobal };
  if (g.Convex === convexGlobal) return;
  displaced = g.Convex;
  g.Convex = convexGlobal;
}

// A function's validators never change; exporting them (convex builds their JSON afresh on
// every call) cost more than checking the arguments.
const validators = new WeakMap<Registered, { args: ValidatorJson | null; returns: ValidatorJson | null }>();

function validatorsOf(fn: Registered): { args: ValidatorJson | null; returns: ValidatorJson | null } {
  let v = validators.get(fn);
  if (!v) {
    const parse = (exported: (() => string) | undefined) => (exported ? (JSON.parse(exported()) as ValidatorJson | null) : null);
    v = { args: parse(fn.exportArgs?.bind(fn)), returns: parse(fn.exportReturns?.bind(fn)) };
    validators.set(fn, v);
  }
  return v;
}

/**
 * Run one registered function inside `exec` (its transaction, caller and log lines) after
 * checking its arguments, and check what it returns, against its declared validators.
 */
export async function execute(fn: Registered, kind: FunctionKind, args: Record<string, Value>, exec: Omit<Execution, "kind" | "streams"> & Partial<Execution>): Promise<Value> {
  installConvexGlobal();
  const store = exec.host.store;
  const idTable = (id: string) => store.tableOf(id);
  const { args: argsValidator, returns: returnsValidator } = validatorsOf(fn);
  if (argsValidator) {
    const m = mismatch(args, argsValidator, idTable);
    if (m) throw new FunctionFailure(mismatchMessage("ArgumentValidationError", m, args));
  }
  const run: Execution = { ...exec, kind, streams: new Map() };
  const argsText = JSON.stringify([convexToJson(args)]);
  const resultText = await withLogSink(
    (line) => run.lines.push(line),
    () =>
      running.run(run, () =>
        kind === "query" ? fn.invokeQuery!(argsText) : kind === "mutation" ? fn.invokeMutation!(argsText) : fn.invokeAction!("", argsText),
      ),
  );
  run.streams.clear();
  const result = jsonToConvex(JSON.parse(resultText) as JSONValue);
  if (returnsValidator) {
    const m = mismatch(result, returnsValidator, idTable);
    if (m) throw new FunctionFailure(mismatchMessage("ReturnsValidationError", m, result));
  }
  return result;
}
