// One WebSocket connection speaking Convex's sync protocol. The client tracks a version
// (query set, identity, timestamp) and rejects any Transition that does not start exactly
// at it, so every Transition of a connection is produced by one serial queue and the
// version here only moves when a Transition is actually sent. A query re-runs only when a
// commit wrote something its last run read (its read set), never just because time moved.
//
// This file is the connection's queue and message dispatch; a Transition is built in
// sync-transition.ts, the query set kept in sync-queries.ts, calls answered in
// sync-calls.ts and Authenticate decided in sync-auth.ts.
import type { Logger } from "../util/log.ts";
import type { Engine } from "./engine.ts";
import type { RequestMemo } from "./request-memo.ts";
import { decodeTs } from "./timestamp.ts";
import { errorMessage } from "../util/errors.ts";
import { authCaller } from "./sync-auth.ts";
import { callFunction } from "./sync-calls.ts";
import { applyModifications, type Modification, type Subscription } from "./sync-queries.ts";
import { buildTransition, type Change, type TransitionState } from "./sync-transition.ts";

export type SyncSessionDeps = {
  engine: Engine;
  memo: RequestMemo;
  isAdminKey(value: string): boolean;
  send(message: object): void;
  /** Close the socket; the client reconnects and starts from version 0 again. */
  close(code: number, reason: string): void;
  log: Logger;
};

export type SyncSession = {
  receive(text: string): void;
  dispose(): void;
};

type ClientMessage = Record<string, unknown> & { type?: unknown };

export function createSyncSession(deps: SyncSessionDeps): SyncSession {
  const { engine, log } = deps;
  const state: TransitionState = { version: { querySet: 0, identity: 0, ts: 0n }, queries: new Map(), caller: { admin: false }, closed: false, inTransition: false, commitsDuring: [] };
  let sessionId: string | undefined;
  let refreshQueued = false;
  let forceQueued = false;
  // Query set changes not yet in a Transition, and the client's query set version after them.
  // They ride in the next Transition, however many arrived: the client only checks that a
  // Transition starts where the last one ended, so one Transition may cover several changes.
  let queuedMods: Modification[] = [];
  let acceptedQuerySet = 0;
  // Changes arriving together (a worker subscribes to two queries at once) wait for the end
  // of this turn, so they share one Transition.
  let modsTimer: ReturnType<typeof setImmediate> | undefined;

  const internalError = (what: string) => (e: unknown) => {
    log.error(what, { error: errorMessage(e) });
    fail(1011, "InternalServerError");
  };
  // Every Transition of a connection comes from this one serial queue; a task that fails
  // leaves the client's version possibly out of step with ours, so it must start over.
  const enqueue = serialQueue(() => state.closed, internalError("sync connection failed; closing it so the client reconnects"));

  function fail(code: number, reason: string): void {
    if (state.closed) return;
    dispose();
    deps.close(code, reason);
  }

  function send(message: object): void {
    if (!state.closed) deps.send(message);
  }

  // Refreshes asked for while one is queued fold into it (forced if any of them was), and so
  // do the query set changes that arrived meanwhile.
  function refresh(force: boolean): void {
    if (force) forceQueued = true;
    if (refreshQueued) return;
    refreshQueued = true;
    enqueue(async () => {
      refreshQueued = false;
      const f = forceQueued;
      forceQueued = false;
      const mods = queuedMods;
      queuedMods = [];
      const { added, removed } = applyModifications(state.queries, mods, watchQuery);
      await transition({ querySet: acceptedQuerySet, added, removed, force: f });
    });
  }

  async function transition(change: Change): Promise<void> {
    const { message, again } = await buildTransition(state, engine, change);
    if (again) refresh(false);
    if (message) send(message);
  }

  // A change with nothing in it (a fresh connection's first message) only moves the version:
  // it waits for the next Transition instead of costing one of its own.
  function modifyQuerySet(m: ClientMessage): void {
    const baseVersion = m.baseVersion as number;
    const mods = (Array.isArray(m.modifications) ? m.modifications : []) as Modification[];
    if (baseVersion !== acceptedQuerySet) {
      log.warn("sync client sent a query set change from an unexpected version; closing the connection", { baseVersion, expected: acceptedQuerySet });
      return fail(1011, "InvalidQuerySetVersion");
    }
    acceptedQuerySet = m.newVersion as number;
    queuedMods.push(...mods);
    if (mods.length > 0) {
      modsTimer ??= setImmediate(() => {
        modsTimer = undefined;
        refresh(true);
      });
    }
  }

  function authenticate(m: ClientMessage): void {
    const baseVersion = typeof m.baseVersion === "number" ? m.baseVersion : state.version.identity;
    const r = authCaller(m, deps.isAdminKey);
    if ("error" in r) {
      if (r.wrongKey) log.warn("a sync client presented a wrong admin key");
      send({ type: "AuthError", error: r.error, baseVersion, authUpdateAttempted: true });
      return;
    }
    // Calls that arrive after this message use the new identity at once; the Transition
    // that confirms it (identity version + 1) re-runs every query under it.
    state.caller = r.caller;
    enqueue(() => transition({ identity: baseVersion + 1, rerunAll: true, force: true }));
  }

  function receive(text: string): void {
    if (state.closed) return;
    const m = parse(text, log);
    if (!m) return fail(1003, "InvalidMessage");
    switch (m.type) {
      case "Connect":
        sessionId = typeof m.sessionId === "string" ? m.sessionId : undefined;
        return connected(m, engine, log);
      case "ModifyQuerySet":
        return modifyQuerySet(m);
      case "Authenticate":
        return authenticate(m);
      case "Mutation":
      case "Action": {
        const ctx = { engine, memo: deps.memo, caller: state.caller, sessionId, origin: session, send, forceTransition: () => refresh(true) };
        void callFunction(m, m.type === "Mutation" ? "mutation" : "action", ctx).catch(internalError("a sync request failed"));
        return;
      }
      case "Event":
        return; // client metrics
      default:
        log.debug("ignoring an unknown sync message", { type: String(m.type) });
    }
  }

  // A commit marks the queries whose read sets it touches (the engine finds them). Writes by
  // anyone else (other connections, HTTP, scheduled functions) refresh this connection now;
  // its own mutations refresh after their response instead.
  function watchQuery(q: Subscription) {
    return engine.watch((origin) => {
      if (state.closed || q.dirty) return;
      q.dirty = true;
      if (origin !== session) refresh(false);
    });
  }

  // Commits landing while queries run are checked against their new reads afterwards.
  const unsubscribe = engine.onCommit((_origin, commit) => {
    if (!state.closed && state.inTransition && commit) state.commitsDuring.push(commit);
  });

  function dispose(): void {
    if (state.closed) return;
    state.closed = true;
    if (modsTimer) clearImmediate(modsTimer);
    unsubscribe();
    for (const q of state.queries.values()) q.watch.close();
  }

  const session: SyncSession = { receive, dispose };
  return session;
}

/** Run tasks one after another; skipped once `stopped()`, failures go to `failed`. */
function serialQueue(stopped: () => boolean, failed: (e: unknown) => void): (task: () => Promise<void>) => void {
  let tail: Promise<void> = Promise.resolve();
  return (task) => {
    tail = tail.then(() => (stopped() ? undefined : task())).catch(failed);
  };
}

function connected(m: ClientMessage, engine: Engine, log: Logger): void {
  const seen = typeof m.maxObservedTimestamp === "string" ? decodeTs(m.maxObservedTimestamp) : undefined;
  if (seen !== undefined) engine.observeTs(seen);
  log.debug("sync client connected", { connectionCount: m.connectionCount as number, lastCloseReason: m.lastCloseReason as string | undefined });
}

function parse(text: string, log: Logger): ClientMessage | undefined {
  try {
    return JSON.parse(text) as ClientMessage;
  } catch {
    log.warn("sync client sent a message that is not JSON; closing the connection");
    return undefined;
  }
}
