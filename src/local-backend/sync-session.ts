// One WebSocket connection speaking Convex's sync protocol. The client tracks a version
// (query set, identity, timestamp) and rejects any Transition that does not start exactly
// at it, so every Transition of a connection is produced by one serial queue and the
// version here only moves when a Transition is actually sent. A query re-runs only when a
// commit wrote something its last run read (its read set), never just because time moved.
import type { JSONValue } from "convex/values";
import type { Logger } from "../util/log.ts";
import type { Caller, CallOutcome, Commit, Engine, ReadSet } from "./engine.ts";
import type { RequestMemo } from "./request-memo.ts";
import { decodeTs, encodeTs } from "./timestamp.ts";
import { errorMessage } from "../util/errors.ts";

type Version = { querySet: number; identity: number; ts: bigint };
type Subscription = {
  udfPath: string;
  args: JSONValue;
  componentPath?: string;
  last?: string;
  /** What the last run read, and the timestamp its result is valid at. */
  reads?: ReadSet;
  validTs?: bigint;
  /** A commit since then wrote something it read. */
  dirty: boolean;
};

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

const WRONG_ADMIN_KEY = "The provided admin key is not valid for this backend (wrong admin key).";
const NO_USER_AUTH = "This embedded backend does not accept user tokens; call public functions without auth, or use the admin key.";

type ClientMessage = Record<string, unknown> & { type?: unknown };
type Modification = { type: "Add"; queryId: number; udfPath: string; args?: JSONValue[]; componentPath?: string } | { type: "Remove"; queryId: number };

export function createSyncSession(deps: SyncSessionDeps): SyncSession {
  const { engine, log } = deps;
  let version: Version = { querySet: 0, identity: 0, ts: 0n };
  const queries = new Map<number, Subscription>();
  let caller: Caller = { admin: false };
  let sessionId: string | undefined;
  let closed = false;
  let tail: Promise<void> = Promise.resolve();
  let refreshQueued = false;
  let forceQueued = false;
  // Commits seen while a Transition runs queries: checked against the new read sets after.
  let inTransition = false;
  let commitsDuring: Commit[] = [];

  function enqueue(task: () => Promise<void>): void {
    tail = tail
      .then(() => (closed ? undefined : task()))
      .catch((e) => {
        // The client's version may no longer match ours: make it start over.
        log.error("sync connection failed; closing it so the client reconnects", { error: errorMessage(e) });
        fail(1011, "InternalServerError");
      });
  }

  function fail(code: number, reason: string): void {
    if (closed) return;
    dispose();
    deps.close(code, reason);
  }

  function send(message: object): void {
    if (!closed) deps.send(message);
  }

  function refresh(force: boolean): void {
    if (force) forceQueued = true;
    if (refreshQueued) return;
    refreshQueued = true;
    enqueue(async () => {
      refreshQueued = false;
      const f = forceQueued;
      forceQueued = false;
      await transition({ force: f });
    });
  }

  async function transition(change: { querySet?: number; identity?: number; added?: Set<number>; removed?: number[]; rerunAll?: boolean; force: boolean }): Promise<void> {
    const ts = engine.ts > version.ts ? engine.ts : version.ts;
    const as = caller;
    const modifications: object[] = (change.removed ?? []).map((queryId) => ({ type: "QueryRemoved", queryId }));
    const runs = [...queries].filter(([id, q]) => change.rerunAll === true || q.dirty || change.added?.has(id));
    for (const [, q] of runs) q.dirty = false;
    inTransition = true;
    let outcomes: CallOutcome[];
    try {
      outcomes = await Promise.all(runs.map(([, q]) => run(q, as)));
    } finally {
      inTransition = false;
    }
    const seen = commitsDuring;
    commitsDuring = [];
    if (closed) return;
    runs.forEach(([queryId, q], i) => {
      const o = outcomes[i]!;
      q.reads = o.reads;
      q.validTs = o.ts;
      // A commit that landed after this run's snapshot and touches what it read: again.
      if (seen.some((c) => (o.ts === undefined || c.ts > o.ts) && (!o.reads || engine.touches(o.reads, c)))) q.dirty = true;
      const key = o.success ? JSON.stringify({ v: o.value }) : JSON.stringify({ e: o.errorMessage, d: o.errorData ?? null });
      if (!change.added?.has(queryId) && key === q.last) return;
      q.last = key;
      modifications.push(
        o.success
          ? { type: "QueryUpdated", queryId, value: o.value, logLines: o.logLines, journal: null }
          : { type: "QueryFailed", queryId, errorMessage: o.errorMessage, ...(o.errorData !== undefined ? { errorData: o.errorData } : {}), logLines: o.logLines, journal: null },
      );
    });
    if ([...queries.values()].some((q) => q.dirty)) refresh(false);
    const next: Version = { querySet: change.querySet ?? version.querySet, identity: change.identity ?? version.identity, ts };
    const moved = next.querySet !== version.querySet || next.identity !== version.identity;
    if (modifications.length === 0 && !change.force && !moved) return;
    send({ type: "Transition", startVersion: wire(version), endVersion: wire(next), modifications });
    version = next;
  }

  function run(q: Subscription, as: Caller): Promise<CallOutcome> {
    if (q.componentPath) {
      return Promise.resolve({ success: false, errorMessage: "Components are not supported by the embedded backend", logLines: [] });
    }
    return engine.call({ udfPath: q.udfPath, args: q.args, kind: "query", caller: as });
  }

  function modifyQuerySet(m: ClientMessage): void {
    const baseVersion = m.baseVersion as number;
    const newVersion = m.newVersion as number;
    const mods = (Array.isArray(m.modifications) ? m.modifications : []) as Modification[];
    enqueue(async () => {
      if (baseVersion !== version.querySet) {
        log.warn("sync client sent a query set change from an unexpected version; closing the connection", { baseVersion, expected: version.querySet });
        fail(1011, "InvalidQuerySetVersion");
        return;
      }
      const added = new Set<number>();
      const removed: number[] = [];
      for (const mod of mods) {
        if (mod.type === "Add") {
          queries.set(mod.queryId, { udfPath: mod.udfPath, args: mod.args?.[0] ?? {}, componentPath: mod.componentPath, dirty: false });
          added.add(mod.queryId);
        } else if (mod.type === "Remove") {
          if (queries.delete(mod.queryId) && !added.delete(mod.queryId)) removed.push(mod.queryId);
        }
      }
      await transition({ querySet: newVersion, added, removed, force: true });
    });
  }

  function authenticate(m: ClientMessage): void {
    const baseVersion = typeof m.baseVersion === "number" ? m.baseVersion : version.identity;
    if (m.tokenType === "Admin") {
      if (typeof m.value !== "string" || !deps.isAdminKey(m.value)) {
        log.warn("a sync client presented a wrong admin key");
        send({ type: "AuthError", error: WRONG_ADMIN_KEY, baseVersion, authUpdateAttempted: true });
        return;
      }
      const acting = m.impersonating as Caller["identity"] | undefined;
      caller = { admin: true, ...(acting ? { identity: acting } : {}) };
    } else if (m.tokenType === "None") {
      caller = { admin: false };
    } else {
      send({ type: "AuthError", error: NO_USER_AUTH, baseVersion, authUpdateAttempted: true });
      return;
    }
    // Calls that arrive after this message use the new identity at once; the Transition
    // that confirms it (identity version + 1) re-runs every query under it.
    enqueue(() => transition({ identity: baseVersion + 1, rerunAll: true, force: true }));
  }

  async function callFunction(m: ClientMessage, kind: "mutation" | "action"): Promise<void> {
    const requestId = m.requestId as number;
    const as = caller;
    const args = Array.isArray(m.args) ? ((m.args[0] ?? {}) as JSONValue) : {};
    const invoke = () => engine.call({ udfPath: String(m.udfPath), args, kind, caller: as }, { origin: session });
    // Only mutations are retried by the client after a reconnect; actions never are.
    const outcome = kind === "mutation" && sessionId ? await deps.memo.once(`${sessionId}|${requestId}`, invoke) : await invoke();
    const type = kind === "mutation" ? "MutationResponse" : "ActionResponse";
    if (outcome.success) {
      send({ type, requestId, success: true, result: outcome.value, logLines: outcome.logLines, ...(kind === "mutation" ? { ts: encodeTs(outcome.ts ?? engine.ts) } : {}) });
      // The client resolves a mutation only once a Transition reaches its timestamp, and it
      // must come after the response: send one even if no query changed.
      if (kind === "mutation") refresh(true);
    } else {
      send({ type, requestId, success: false, result: outcome.errorMessage, logLines: outcome.logLines, ...(outcome.errorData !== undefined ? { errorData: outcome.errorData } : {}) });
    }
  }

  function receive(text: string): void {
    if (closed) return;
    let m: ClientMessage;
    try {
      m = JSON.parse(text) as ClientMessage;
    } catch {
      log.warn("sync client sent a message that is not JSON; closing the connection");
      fail(1003, "InvalidMessage");
      return;
    }
    switch (m.type) {
      case "Connect": {
        sessionId = typeof m.sessionId === "string" ? m.sessionId : undefined;
        const seen = typeof m.maxObservedTimestamp === "string" ? decodeTs(m.maxObservedTimestamp) : undefined;
        if (seen !== undefined) engine.observeTs(seen);
        log.debug("sync client connected", { connectionCount: m.connectionCount as number, lastCloseReason: m.lastCloseReason as string | undefined });
        return;
      }
      case "ModifyQuerySet":
        return modifyQuerySet(m);
      case "Authenticate":
        return authenticate(m);
      case "Mutation":
      case "Action":
        void callFunction(m, m.type === "Mutation" ? "mutation" : "action").catch((e) => {
          log.error("a sync request failed", { error: errorMessage(e) });
          fail(1011, "InternalServerError");
        });
        return;
      case "Event":
        return; // client metrics
      default:
        log.debug("ignoring an unknown sync message", { type: String(m.type) });
    }
  }

  // A commit marks the queries whose read sets it touches. Writes by anyone else (other
  // connections, HTTP, scheduled functions) refresh this connection now; its own mutations
  // refresh after their response instead.
  const unsubscribe = engine.onCommit((origin, commit) => {
    if (closed) return;
    if (inTransition && commit) commitsDuring.push(commit);
    let any = false;
    for (const q of queries.values()) {
      if (q.dirty) continue;
      if (!commit || !q.reads || engine.touches(q.reads, commit)) {
        q.dirty = true;
        any = true;
      }
    }
    if (any && origin !== session) refresh(false);
  });

  function dispose(): void {
    if (closed) return;
    closed = true;
    unsubscribe();
  }

  const session: SyncSession = { receive, dispose };
  return session;
}

function wire(v: Version) {
  return { querySet: v.querySet, identity: v.identity, ts: encodeTs(v.ts) };
}
