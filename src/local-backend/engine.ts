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
import { canonicalUdfPath, createFunctionIndex, type FunctionInfo, type FunctionKind, type ModuleMap } from "./functions.ts";
import { openPersistence, type Persistence } from "./persistence.ts";
import { execute, FunctionFailure, type Caller, type Host, type Registered } from "./runtime.ts";
import { createCommitPipeline, type Commit } from "./commits.ts";
import { cronSpecs } from "./cron-schedule.ts";
import { startSchedules, type Schedules } from "./schedules.ts";
import { docRec } from "./persistence.ts";
import { createStore, SCHEDULED_TABLE, schemaInfo, type Doc, type Store, type Write } from "./store.ts";
import { committedValue, createTx, touches, txWrite, type ReadSet, type Tx } from "./transaction.ts";
import { createClock } from "./timestamp.ts";
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
  /** Counters for tests and benchmarks: how many query runs and commits so far. */
  readonly stats: { readonly queryExecutions: number; readonly commits: number };
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

const KIND_LABEL: Record<FunctionKind, string> = { query: "Query", mutation: "Mutation", action: "Action" };
const QUERY_RETRIES = 3;

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

export function createEngine(opts: EngineOptions): Engine {
  const log = opts.log;
  const index = createFunctionIndex(opts.modules);
  const persistence = opts.persistence;
  const store: Store = createStore(schemaInfo(opts.schema as unknown as { export(): string } | undefined), persistence?.tableNumbers ?? []);
  store.takeFreshTableNumbers();
  if (persistence) {
    const loaded: Write[] = [];
    for (const rec of persistence.documents()) loaded.push({ table: rec.table, id: rec.id, next: rec });
    store.apply(loaded);
  }
  const clock = createClock();
  if (persistence) clock.observe(persistence.lastTs);
  let lastCreation = Number(clock.now() / 1_000_000n);
  const listeners = new Set<(origin: unknown, commit: Commit | undefined) => void>();
  const stats = { queryExecutions: 0, commits: 0 };
  // Queries in flight and the commits applied since the oldest of them started: a query whose
  // reads a concurrent commit touched runs again, so every result is one consistent snapshot.
  const activeQueries = new Map<Tx, bigint>();
  let recentCommits: Commit[] = [];
  // Identical queries in flight at once (many clients re-running the same one after a
  // commit) share one run; nothing is kept once it settles.
  const inFlight = new Map<string, Promise<CallOutcome>>();
  let mutationTail: Promise<unknown> = Promise.resolve();
  let schedules: Schedules | undefined;
  let closed = false;
  const commits = createCommitPipeline({
    store,
    ...(persistence ? { persistence } : {}),
    clock,
    applied(c, origin) {
      stats.commits++;
      if (activeQueries.size > 0) recentCommits.push(c);
      for (const l of [...listeners]) {
        try {
          l(origin, c);
        } catch (e) {
          log?.warn("a subscription refresh failed to start", { error: errorMessage(e) });
        }
      }
      schedules?.committed(c.writes);
    },
  });

  function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = mutationTail.then(fn, fn);
    mutationTail = run.catch(() => {});
    return run;
  }

  /**
   * Run `work` in a mutation transaction, one at a time; the lock is released once its
   * writes are staged, and the result comes back once they are durable.
   */
  async function transaction<T>(work: (tx: Tx) => Promise<T>, origin: unknown): Promise<{ value: T; ts: bigint }> {
    const staged = await oneAtATime(async () => {
      const tx = createTx(store, true, commits.overlay);
      const value = await work(tx);
      return { value, ts: commits.stage(tx, origin) };
    });
    return { value: staged.value, ts: await staged.ts };
  }

  function creationTime(): number {
    // Unique and increasing: two inserts in the same millisecond still sort in order.
    const now = Date.now();
    lastCreation = now > lastCreation ? now : lastCreation + 1 / 1024;
    return lastCreation;
  }

  async function runQuery(fn: Registered, args: Record<string, Value>, caller: Caller, lines: string[], locked = false): Promise<{ value?: Value; error?: unknown; tx: Tx; ts: bigint }> {
    for (let attempt = 0; ; attempt++) {
      const tx = createTx(store, false);
      const start = commits.visibleTs;
      const attemptLines: string[] = [];
      activeQueries.set(tx, start);
      let value: Value | undefined;
      let error: unknown;
      try {
        value = await execute(fn, "query", args, { host, tx, caller, lines: attemptLines });
      } catch (e) {
        error = e;
      } finally {
        activeQueries.delete(tx);
      }
      stats.queryExecutions++;
      const conflicted = recentCommits.some((c) => c.ts > start && touches(tx.reads, c.writes, store));
      pruneRecent();
      if (conflicted && attempt >= QUERY_RETRIES && !locked) {
        // Still racing writers: once more with mutations held off and nothing left to apply.
        return oneAtATime(async () => {
          commits.flush();
          return runQuery(fn, args, caller, lines, true);
        });
      }
      if (!conflicted || locked) {
        lines.push(...attemptLines);
        return { value, error, tx, ts: commits.visibleTs };
      }
    }
  }

  function pruneRecent(): void {
    if (activeQueries.size === 0) {
      recentCommits = [];
      return;
    }
    const oldest = [...activeQueries.values()].reduce((a, b) => (a < b ? a : b));
    recentCommits = recentCommits.filter((c) => c.ts > oldest);
  }

  function runMutation(fn: Registered, args: Record<string, Value>, caller: Caller, lines: string[], origin: unknown): Promise<{ value: Value; ts: bigint }> {
    return transaction((tx) => execute(fn, "mutation", args, { host, tx, caller, lines }), origin);
  }

  async function lookupKind(udfPath: string, kind: FunctionKind): Promise<Registered> {
    const found = await index.lookup(udfPath);
    if (!found || found.kind !== kind) throw new FunctionFailure(`Could not find ${kind} '${canonicalUdfPath(udfPath)}'`);
    return found.fn as Registered;
  }

  function rethrow(e: unknown): never {
    const f = failureFromError(e);
    throw new FunctionFailure(f.errorMessage.replace(/^Uncaught (ConvexError: )?/, ""), f.errorData);
  }

  const host: Host = {
    store,
    async lookup(udfPath) {
      const found = await index.lookup(udfPath);
      return found && { udfPath: found.udfPath, kind: found.kind, fn: found.fn as Registered };
    },
    async runQuery(udfPath, args, caller, lines) {
      const r = await runQuery(await lookupKind(udfPath, "query"), args, caller, lines);
      if (r.error !== undefined) rethrow(r.error);
      return r.value!;
    },
    async runMutation(udfPath, args, caller, lines) {
      const fn = await lookupKind(udfPath, "mutation");
      try {
        return (await runMutation(fn, args, caller, lines, undefined)).value;
      } catch (e) {
        rethrow(e);
      }
    },
    async runAction(udfPath, args, caller, lines) {
      const fn = await lookupKind(udfPath, "action");
      try {
        return await execute(fn, "action", args, { host, caller, lines });
      } catch (e) {
        rethrow(e);
      }
    },
    scheduleOutside: async (job) =>
      (
        await transaction(async (tx) => {
          const id = store.newId(SCHEDULED_TABLE);
          txWrite(tx, SCHEDULED_TABLE, id, docRec(SCHEDULED_TABLE, { ...job, _id: id, _creationTime: creationTime() } as Doc));
          return id;
        }, undefined)
      ).value,
    cancelOutside: async (id) => {
      await transaction(async (tx) => {
        const rec = committedValue(tx, id);
        if (!rec || rec.table !== SCHEDULED_TABLE) return;
        const kind = (rec.value.state as { kind: string }).kind;
        if (kind !== "pending" && kind !== "inProgress") return;
        txWrite(tx, SCHEDULED_TABLE, id, docRec(SCHEDULED_TABLE, { ...rec.value, state: { kind: "canceled" }, completedTime: Date.now() }));
      }, undefined);
    },
    creationTime,
  };

  async function call(req: CallRequest, o: { origin?: unknown } = {}): Promise<CallOutcome> {
    const udfPath = canonicalUdfPath(req.udfPath);
    let found: Awaited<ReturnType<typeof index.lookup>>;
    try {
      found = await index.lookup(udfPath);
    } catch (e) {
      return { success: false, ...failureFromError(e), logLines: [] };
    }
    if (!found || (found.visibility === "internal" && !req.caller.admin)) return { success: false, ...notFoundFailure(udfPath), logLines: [] };
    if (req.kind && found.kind !== req.kind) {
      return { success: false, ...serverFailure(`Trying to execute ${udfPath} as ${KIND_LABEL[req.kind]}, but it is defined as ${KIND_LABEL[found.kind]}.`), logLines: [] };
    }
    let args: Value;
    try {
      args = jsonToConvex(req.args ?? {});
    } catch (e) {
      return { success: false, ...serverFailure(`Invalid arguments for ${udfPath}: ${(e as Error).message}`), logLines: [] };
    }
    if (args === null || typeof args !== "object" || Array.isArray(args) || args instanceof ArrayBuffer) {
      return { success: false, ...serverFailure(`The arguments to ${udfPath} must be an object`), logLines: [] };
    }
    const argsObject = args as Record<string, Value>;
    const fn = found.fn as Registered;
    const kind = found.kind;
    if (kind === "query") {
      const key = `${udfPath}|${JSON.stringify(req.args ?? {})}|${req.caller.admin ? 1 : 0}|${JSON.stringify(req.caller.identity ?? null)}`;
      let pending = inFlight.get(key);
      if (!pending) {
        pending = (async (): Promise<CallOutcome> => {
          const logLines: string[] = [];
          const r = await runQuery(fn, argsObject, req.caller, logLines);
          if (r.error !== undefined) return { success: false, ...failureFromError(r.error), logLines, reads: r.tx.reads, ts: r.ts };
          return { success: true, kind, value: toJson(r.value), logLines, reads: r.tx.reads, ts: r.ts };
        })().finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
    }
    const logLines: string[] = [];
    try {
      if (kind === "mutation") {
        const r = await runMutation(fn, argsObject, req.caller, logLines, o.origin);
        return { success: true, kind, value: toJson(r.value), ts: r.ts, logLines };
      }
      const value = await execute(fn, "action", argsObject, { host, caller: req.caller, lines: logLines });
      return { success: true, kind, value: toJson(value), logLines };
    } catch (e) {
      return { success: false, ...failureFromError(e), logLines };
    }
  }

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
    touches: (reads, c) => touches(reads, c.writes, store),
    invalidate() {
      for (const l of [...listeners]) l(undefined, undefined);
    },
    startSchedules(s) {
      if ((closed && persistence) || schedules) return;
      schedules = startSchedules({
        store,
        crons: s.crons ? index.module("crons") : Promise.resolve(undefined),
        log,
        transact: async (work) => (await transaction(async (tx) => work(tx, creationTime), undefined)).value,
        kindOf: async (name) => (await index.lookup(name))?.kind,
        runFunction: async (name, args, inside) => {
          const found = await index.lookup(name);
          if (!found) throw new Error(`Could not find function '${name}'`);
          const lines: string[] = [];
          const fn = found.fn as Registered;
          const caller: Caller = { admin: true };
          try {
            if (found.kind === "mutation") {
              await transaction(async (tx) => {
                if (inside && !inside.before(tx)) return;
                await execute(fn, "mutation", args, { host, tx, caller, lines });
                inside?.after(tx);
              }, undefined);
              return;
            }
            if (found.kind === "action") return void (await execute(fn, "action", args, { host, caller, lines }));
            throw new Error(`${name} is a query; only mutations and actions can be scheduled`);
          } finally {
            for (const line of lines) log?.debug(`function log (${name}): ${line}`);
          }
        },
      });
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

function toJson(v: Value | undefined): JSONValue {
  return v === undefined ? null : convexToJson(v);
}
