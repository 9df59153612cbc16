// One WebSocket connection speaking Convex's sync protocol. The client tracks a version
// (query set, identity, timestamp) and rejects any Transition that does not start exactly
// at it, so every Transition of a connection is produced by one serial queue and the
// version here only moves when a Transition is actually sent. A query re-runs only when a
// commit wrote something its last run read (its read set), never just because time moved.
//
// This file is the connection's message dispatch; its Transitions are queued in
// sync-refresh.ts and built in sync-transition.ts, the query set kept in sync-queries.ts,
// calls answered in sync-calls.ts and Authenticate decided in sync-auth.ts.
import type { Logger } from "../util/log.ts";
import type { Engine } from "./engine.ts";
import type { RequestMemo } from "./request-memo.ts";
import { decodeTs } from "./timestamp.ts";
import { errorMessage } from "../util/errors.ts";
import { authCaller } from "./sync-auth.ts";
import { callFunction } from "./sync-calls.ts";
import type { Modification, Subscription } from "./sync-queries.ts";
import { createRefresher, type Refresher } from "./sync-refresh.ts";
import type { TransitionState } from "./sync-transition.ts";

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

/** What the message handlers below act on: one open session. */
type Live = {
  deps: SyncSessionDeps;
  state: TransitionState;
  refresher: Refresher;
  send(message: object): void;
  fail(code: number, reason: string): void;
};

export function createSyncSession(deps: SyncSessionDeps): SyncSession {
  const { engine, log } = deps;
  const state: TransitionState = { version: { querySet: 0, identity: 0, ts: 0n }, queries: new Map(), caller: { admin: false }, closed: false, inTransition: false, commitsDuring: [] };
  let sessionId: string | undefined;

  const internalError = (what: string) => (e: unknown) => {
    log.error(what, { error: errorMessage(e) });
    fail(1011, "InternalServerError");
  };
  const refresher = createRefresher({ state, engine, send, watch: watchQuery, failed: internalError("sync connection failed; closing it so the client reconnects") });
  const live: Live = { deps, state, refresher, send, fail };

  function fail(code: number, reason: string): void {
    if (state.closed) return;
    dispose();
    deps.close(code, reason);
  }

  function send(message: object): void {
    if (!state.closed) deps.send(message);
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
        return modifyQuerySet(m, live);
      case "Authenticate":
        return authenticate(m, live);
      case "Mutation":
      case "Action": {
        const ctx = { engine, memo: deps.memo, caller: state.caller, sessionId, origin: session, send, forceTransition: () => refresher.refresh(true) };
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
      if (origin !== session) refresher.refresh(false);
    });
  }

  function dispose(): void {
    if (state.closed) return;
    state.closed = true;
    refresher.dispose();
    for (const q of state.queries.values()) q.watch.close();
  }

  const session: SyncSession = { receive, dispose };
  return session;
}

function modifyQuerySet(m: ClientMessage, s: Live): void {
  const baseVersion = m.baseVersion as number;
  const mods = (Array.isArray(m.modifications) ? m.modifications : []) as Modification[];
  const expected = s.refresher.querySetVersion();
  if (baseVersion !== expected) {
    s.deps.log.warn("sync client sent a query set change from an unexpected version; closing the connection", { baseVersion, expected });
    return s.fail(1011, "InvalidQuerySetVersion");
  }
  s.refresher.modify(m.newVersion as number, mods);
}

function authenticate(m: ClientMessage, s: Live): void {
  const baseVersion = typeof m.baseVersion === "number" ? m.baseVersion : s.state.version.identity;
  const r = authCaller(m, s.deps.isAdminKey);
  if ("error" in r) {
    if (r.wrongKey) s.deps.log.warn("a sync client presented a wrong admin key");
    s.send({ type: "AuthError", error: r.error, baseVersion, authUpdateAttempted: true });
    return;
  }
  // Calls that arrive after this message use the new identity at once; the Transition
  // that confirms it (identity version + 1) re-runs every query under it.
  s.state.caller = r.caller;
  s.refresher.queue({ identity: baseVersion + 1, rerunAll: true, force: true });
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
