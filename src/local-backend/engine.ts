// The function engine: convex-test running the module map in memory, plus what the real
// backend adds around function calls — visibility (internal functions only for admins),
// one mutation at a time, a commit timestamp per write, and a signal to re-run
// subscriptions after every write. The engine outlives the network layer, so restarting
// the server's sockets keeps the data.
import { convexTest } from "convex-test";
import { makeFunctionReference, type FunctionReference, type SchemaDefinition, type UserIdentity } from "convex/server";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import type { Logger } from "../util/log.ts";
import { failureFromError, notFoundFailure, serverFailure, type Failure } from "./failure.ts";
import { canonicalUdfPath, createFunctionIndex, type FunctionInfo, type FunctionKind, type ModuleMap } from "./functions.ts";
import { captureModuleLogs, collectLogLines } from "./log-capture.ts";
import { createClock } from "./timestamp.ts";

/** Who is calling: admins (holders of the admin key) may call internal functions. */
export type Caller = { admin: boolean; identity?: Partial<UserIdentity> };

export type CallRequest = {
  udfPath: string;
  /** The arguments object, Convex-JSON encoded (as on the wire). */
  args: JSONValue;
  /** When set, the function must be of this kind (the HTTP routes /api/query etc. say which). */
  kind?: FunctionKind;
  caller: Caller;
};

export type CallOutcome = { logLines: string[] } & (
  | { success: true; value: JSONValue; kind: FunctionKind; /** commit timestamp of a mutation */ ts?: bigint }
  | ({ success: false } & Failure)
);

export type EngineOptions = {
  // `any`: a schema of any shape, as convexTest itself accepts.
  schema?: SchemaDefinition<any, boolean>;
  modules: ModuleMap;
  log?: Logger;
};

export type Engine = {
  /** Timestamp of the latest write. */
  readonly ts: bigint;
  call(req: CallRequest, opts?: { origin?: unknown }): Promise<CallOutcome>;
  resolve(udfPath: string): Promise<FunctionInfo | undefined>;
  /** A client saw this timestamp (from an earlier run): never answer with an older one. */
  observeTs(ts: bigint): void;
  /** Called after every write with the `origin` passed to `call` (undefined for actions). */
  onCommit(listener: (origin: unknown) => void): () => void;
  /** Data may have changed without a call (scheduled functions): re-run subscriptions. */
  invalidate(): void;
};

const KIND_LABEL: Record<FunctionKind, string> = { query: "Query", mutation: "Mutation", action: "Action" };

// The part of convex-test's accessor used here, typed for calls by path (its own types expect
// references generated from a known API).
type Accessor = {
  query(ref: FunctionReference<"query", any>, args: Record<string, Value>): Promise<unknown>;
  mutation(ref: FunctionReference<"mutation", any>, args: Record<string, Value>): Promise<unknown>;
  action(ref: FunctionReference<"action", any>, args: Record<string, Value>): Promise<unknown>;
  withIdentity(identity: Partial<UserIdentity>): Accessor;
};

export function createEngine(opts: EngineOptions): Engine {
  const log = opts.log;
  const index = createFunctionIndex(opts.modules);
  const modules = captureModuleLogs(opts.modules, (line) => log?.debug(`function log: ${line}`));
  const root = convexTest(opts.schema, modules) as unknown as Accessor;
  const clock = createClock();
  const listeners = new Set<(origin: unknown) => void>();
  // Query results per (timestamp, function, args, caller): many clients subscribing to the
  // same query after a write cost one run. Cleared on every write.
  const queryCache = new Map<string, Promise<CallOutcome>>();
  const accessors = new Map<string, Accessor>();
  let mutationTail: Promise<unknown> = Promise.resolve();

  function accessorFor(caller: Caller): Accessor {
    if (!caller.identity) return root;
    const key = JSON.stringify(caller.identity);
    let a = accessors.get(key);
    if (!a) {
      a = root.withIdentity(caller.identity);
      if (accessors.size > 100) accessors.clear();
      accessors.set(key, a);
    }
    return a;
  }

  function committed(origin: unknown): bigint {
    const ts = clock.next();
    queryCache.clear();
    for (const l of [...listeners]) {
      try {
        l(origin);
      } catch (e) {
        log?.warn("a subscription refresh failed to start", { error: e instanceof Error ? e.message : String(e) });
      }
    }
    return ts;
  }

  // Mutations run strictly one after another, so each sees the previous one's writes and two
  // claims of the same row cannot both win. (convex-test also locks; this keeps our commit
  // timestamps and notifications in the same order as the writes.)
  function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = mutationTail.then(fn, fn);
    mutationTail = run.catch(() => {});
    return run;
  }

  async function invoke(info: FunctionInfo, args: Record<string, Value>, caller: Caller): Promise<CallOutcome> {
    const accessor = accessorFor(caller);
    const logLines: string[] = [];
    try {
      const result = await collectLogLines(logLines, () =>
        info.kind === "query"
          ? accessor.query(makeFunctionReference<"query">(info.udfPath), args)
          : info.kind === "mutation"
            ? accessor.mutation(makeFunctionReference<"mutation">(info.udfPath), args)
            : accessor.action(makeFunctionReference<"action">(info.udfPath), args),
      );
      return { success: true, kind: info.kind, value: result === undefined ? null : convexToJson(result as Value), logLines };
    } catch (e) {
      return { success: false, ...failureFromError(e), logLines };
    }
  }

  return {
    get ts() {
      return clock.now();
    },
    resolve: (udfPath) => index.resolve(udfPath),
    observeTs: (ts) => clock.observe(ts),
    onCommit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    invalidate() {
      committed(undefined);
    },
    async call(req, o = {}) {
      const udfPath = canonicalUdfPath(req.udfPath);
      let info: FunctionInfo | undefined;
      try {
        info = await index.resolve(udfPath);
      } catch (e) {
        return { success: false, ...failureFromError(e), logLines: [] };
      }
      if (!info || (info.visibility === "internal" && !req.caller.admin)) return { success: false, ...notFoundFailure(udfPath), logLines: [] };
      if (req.kind && info.kind !== req.kind) {
        return {
          success: false,
          ...serverFailure(`Trying to execute ${udfPath} as ${KIND_LABEL[req.kind]}, but it is defined as ${KIND_LABEL[info.kind]}.`),
          logLines: [],
        };
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
      const fn = info;
      if (fn.kind === "query") {
        const key = `${clock.now()}|${fn.udfPath}|${JSON.stringify(req.args ?? {})}|${req.caller.admin ? 1 : 0}|${JSON.stringify(req.caller.identity ?? null)}`;
        let pending = queryCache.get(key);
        if (!pending) {
          pending = invoke(fn, argsObject, req.caller);
          queryCache.set(key, pending);
        }
        return pending;
      }
      if (fn.kind === "mutation") {
        return oneAtATime(async () => {
          const outcome = await invoke(fn, argsObject, req.caller);
          // A failed mutation rolled back: nothing to tell subscribers.
          return outcome.success ? { ...outcome, ts: committed(o.origin) } : outcome;
        });
      }
      // Actions run concurrently (their mutations still serialize inside convex-test) and may
      // have written through ctx.runMutation whatever their outcome.
      const outcome = await invoke(fn, argsObject, req.caller);
      committed(undefined);
      return outcome;
    },
  };
}
