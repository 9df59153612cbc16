// The function engine: the module map's functions run on our own storage (store.ts in
// memory, persistence.ts on disk) through their own entry points (runtime.ts). Around each
// call it does what the real backend does: visibility (internal functions only for
// admins), argument and return validation, one mutation at a time, a commit timestamp per
// write, consistent query snapshots, and commit notifications that carry the writes, so
// subscriptions re-run only when a commit wrote something they read.
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import type { SchemaDefinition } from "convex/server";
import type { Logger } from "../util/log.ts";
import { failureFromError, notFoundFailure, serverFailure, type Failure } from "./failure.ts";
import { canonicalUdfPath, createFunctionIndex, type FunctionIndex, type FunctionInfo, type FunctionKind, type ModuleMap } from "./functions.ts";
import { openPersistence, type Persistence } from "./persistence.ts";
import { execute, type Caller, type Host, type Registered } from "./runtime.ts";
import { createCommitPipeline, type Commit } from "./commits.ts";
import { cronSpecs } from "./cron-schedule.ts";
import { startSchedules, type Schedules } from "./schedules.ts";
import { createStore, schemaInfo, type Store, type Write } from "./store.ts";
import { touches, type ReadSet } from "./transaction.ts";
import { createReadIndex } from "./read-index.ts";
import { createClock } from "./timestamp.ts";
import { createWriter, type Writer } from "./engine-writes.ts";
import { createQueryRunner, type QueryRunner } from "./query-runner.ts";
import { createHost } from "./engine-host.ts";
import { scheduleDeps } from "./engine-schedules.ts";
import { errorMessage } from "../util/errors.ts";

export type { Caller } from "./runtime.ts";
export type { ReadSet } from "./transaction.ts";

export type CallRequest = {
  udfPath: string;
  /** The arguments object, Convex-JSON encoded (as on the wire). */
  args: JSONValue;
  /** When set, the function must be of this kind (the HTTP routes /api/query etc. say which). */
  kind?: FunctionKind;
  caller: Caller;
};

export type CallOutcome = { logLines: string[] } & (
  | {
      success: true;
      value: JSONValue;
      kind: FunctionKind;
      /** Mutations: the commit timestamp. Queries: the timestamp the result is valid at. */
      ts?: bigint;
      /** Queries: what the result depends on. */
      reads?: ReadSet;
    }
  | ({ success: false; reads?: ReadSet; ts?: bigint } & Failure)
);

export type { Commit } from "./commits.ts";

export type EngineOptions = {
  // `any`: a schema of any shape.
  schema?: SchemaDefinition<any, boolean>;
  modules: ModuleMap;
  log?: Logger;
  /** Where the data lives; absent: in memory only. */
  persistence?: Persistence;
};

export type Engine = {
  /** Timestamp of the latest commit. */
  readonly ts: bigint;
  /** The data folder, or undefined for an in-memory engine. */
  readonly dataDir: string | undefined;
  /**
   * Counters for tests and benchmarks: query runs, commits, and watches a commit touched
   * (counted as the commit is applied, so a test can check who a write disturbs at once).
   */
  readonly stats: { readonly queryExecutions: number; readonly commits: number; readonly watchesTouched: number };
  call(req: CallRequest, opts?: { origin?: unknown }): Promise<CallOutcome>;
  resolve(udfPath: string): Promise<FunctionInfo | undefined>;
  /** A client saw this timestamp (from an earlier run): never answer with an older one. */
  observeTs(ts: bigint): void;
  /**
   * Called after every commit that changed something, with the `origin` passed to `call`
   * (undefined for actions and scheduled functions) and the commit; `commit` undefined
   * means "anything may have changed" (invalidate()).
   */
  onCommit(listener: (origin: unknown, commit: Commit | undefined) => void): () => void;
  /**
   * A subscription's watch: `touched` runs after every commit that wrote something its read
   * set (given with `reads`; undefined = not known yet, touched by anything) saw, with the
   * call's `origin`; `commit` undefined means "anything may have changed" (invalidate()).
   */
  watch(touched: (origin: unknown, commit: Commit | undefined) => void): Watch;
  /** Does this commit change what a query with these reads saw? */
  touches(reads: ReadSet, commit: Commit): boolean;
  /** Make every subscription re-run (kept for callers that changed data behind the engine's back). */
  invalidate(): void;
  /** Run scheduled functions (always) and crons (when `crons`); stop() pauses both. */
  startSchedules(opts: { crons: boolean }): void;
  /** How many cron jobs the module map's crons module defines (0 without one). */
  cronCount(): Promise<number>;
  stopSchedules(): void;
  /** Stop timers and close the data file. Idempotent. */
  close(): void;
};

export type Watch = { reads(r: ReadSet | undefined): void; close(): void };

const KIND_LABEL: Record<FunctionKind, string> = { query: "Query", mutation: "Mutation", action: "Action" };

export async function openEngine(opts: Omit<EngineOptions, "persistence"> & { dataDir?: string }): Promise<Engine> {
  if (!opts.dataDir) return createEngine(opts);
  const persistence = await openPersistence(opts.dataDir);
  try {
    return createEngine({ ...opts, persistence });
  } catch (e) {
    persistence.close();
    throw e;
  }
}

// Wiring only: the query path is query-runner.ts, the write path engine-writes.ts, what
// running functions see engine-host.ts, and scheduled jobs engine-schedules.ts.
export function createEngine(opts: EngineOptions): Engine {
  const log = opts.log;
  const index = createFunctionIndex(opts.modules);
  const persistence = opts.persistence;
  const store = loadStore(opts);
  const clock = createClock();
  if (persistence) clock.observe(persistence.lastTs);
  const listeners = new Set<(origin: unknown, commit: Commit | undefined) => void>();
  const watches = createReadIndex<(origin: unknown, commit: Commit | undefined) => void>(store);
  const stats = { queryExecutions: 0, commits: 0, watchesTouched: 0 };
  let schedules: Schedules | undefined;
  let closed = false;
  const commits = createCommitPipeline({
    store,
    ...(persistence ? { persistence } : {}),
    clock,
    applied(c, origin) {
      stats.commits++;
      queries.committed(c);
      const touched = watches.touched(c.writes);
      stats.watchesTouched += touched.size;
      for (const l of [...listeners, ...touched]) {
        try {
          l(origin, c);
        } catch (e) {
          log?.warn("a subscription refresh failed to start", { error: errorMessage(e) });
        }
      }
      schedules?.committed(c.writes);
    },
  });
  const writer = createWriter(store, commits, clock);
  const queries = createQueryRunner({ store, commits, writer, stats });
  const host = createHost({ store, index, queries, writer });
  const call = createCall({ index, queries, writer, host });

  const engine: Engine = {
    get ts() {
      return commits.visibleTs;
    },
    dataDir: persistence?.folder,
    stats,
    call,
    resolve: (udfPath) => index.resolve(udfPath),
    observeTs: (ts) => commits.observe(ts),
    onCommit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    watch(touched) {
      // Its own function object: the same callback watched twice is two watches.
      const w = (origin: unknown, c: Commit | undefined) => touched(origin, c);
      watches.set(w, undefined);
      return { reads: (r) => watches.set(w, r), close: () => watches.delete(w) };
    },
    touches: (reads, c) => touches(reads, c.writes, store),
    invalidate() {
      for (const l of [...listeners, ...watches.all()]) l(undefined, undefined);
    },
    startSchedules(s) {
      if ((closed && persistence) || schedules) return;
      schedules = startSchedules(scheduleDeps({ store, index, host, writer, log, crons: s.crons }));
    },
    cronCount: async () => cronSpecs(await index.module("crons")).length,
    stopSchedules() {
      schedules?.stop();
      schedules = undefined;
    },
    close() {
      if (closed) return;
      closed = true;
      engine.stopSchedules();
      commits.flush();
      persistence?.close();
    },
  };

  return engine;
}

function loadStore(opts: EngineOptions): Store {
  const persistence = opts.persistence;
  const store = createStore(schemaInfo(opts.schema as unknown as { export(): string } | undefined), persistence?.tableNumbers ?? []);
  store.takeFreshTableNumbers();
  if (persistence) {
    const loaded: Write[] = [];
    for (const rec of persistence.documents()) loaded.push({ table: rec.table, id: rec.id, next: rec });
    store.apply(loaded);
  }
  return store;
}

/** Engine.call: visibility, kind and argument checks, then the function's own path. */
function createCall(deps: { index: FunctionIndex; queries: QueryRunner; writer: Writer; host: Host }): Engine["call"] {
  const { index, queries, writer, host } = deps;
  return async function call(req, o = {}) {
    const checked = await checkCall(index, req);
    if ("failure" in checked) return { success: false, ...checked.failure, logLines: [] };
    const { udfPath, fn, kind, args } = checked;
    if (kind === "query") {
      const key = `${udfPath}|${JSON.stringify(req.args ?? {})}|${req.caller.admin ? 1 : 0}|${JSON.stringify(req.caller.identity ?? null)}`;
      return queries.shared(key, async (): Promise<CallOutcome> => {
        const logLines: string[] = [];
        const r = await queries.run(fn, args, req.caller, logLines, host);
        if (r.error !== undefined) return { success: false, ...failureFromError(r.error), logLines, reads: r.tx.reads, ts: r.ts };
        return { success: true, kind, value: toJson(r.value), logLines, reads: r.tx.reads, ts: r.ts };
      });
    }
    const logLines: string[] = [];
    try {
      if (kind === "mutation") {
        const r = await writer.transaction((tx) => execute(fn, "mutation", args, { host, tx, caller: req.caller, lines: logLines }), o.origin);
        return { success: true, kind, value: toJson(r.value), ts: r.ts, logLines };
      }
      const value = await execute(fn, "action", args, { host, caller: req.caller, lines: logLines });
      return { success: true, kind, value: toJson(value), logLines };
    } catch (e) {
      return { success: false, ...failureFromError(e), logLines };
    }
  };
}

type CheckedCall = { udfPath: string; fn: Registered; kind: FunctionKind; args: Record<string, Value> } | { failure: Failure };

async function checkCall(index: FunctionIndex, req: CallRequest): Promise<CheckedCall> {
  const udfPath = canonicalUdfPath(req.udfPath);
  let found: Awaited<ReturnType<typeof index.lookup>>;
  try {
    found = await index.lookup(udfPath);
  } catch (e) {
    return { failure: failureFromError(e) };
  }
  if (!found || (found.visibility === "internal" && !req.caller.admin)) return { failure: notFoundFailure(udfPath) };
  if (req.kind && found.kind !== req.kind) {
    return { failure: serverFailure(`Trying to execute ${udfPath} as ${KIND_LABEL[req.kind]}, but it is defined as ${KIND_LABEL[found.kind]}.`) };
  }
  let args: Value;
  try {
    args = jsonToConvex(req.args ?? {});
  } catch (e) {
    return { failure: serverFailure(`Invalid arguments for ${udfPath}: ${(e as Error).message}`) };
  }
  if (args === null || typeof args !== "object" || Array.isArray(args) || args instanceof ArrayBuffer) {
    return { failure: serverFailure(`The arguments to ${udfPath} must be an object`) };
  }
  return { udfPath, fn: found.fn as Registered, kind: found.kind, args: args as Record<string, Value> };
}

function toJson(v: Value | undefined): JSONValue {
  return v === undefined ? null : convexToJson(v);
}
