// The sync protocol on the wire, with a raw WebSocket: version bookkeeping, the order of
// MutationResponse and Transition, pings, retried mutations and protocol violations.
import { afterEach, describe, expect, test } from "bun:test";
import { decodeTs } from "../../src/local-backend/timestamp.ts";
import { cleanup, eventually, fixtureBackend, httpClient, api } from "./helpers.ts";

type Msg = Record<string, any>;

afterEach(cleanup);

async function rawClient(url: string, sessionId: string = crypto.randomUUID()) {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/api/1.48.0/sync`);
  const received: Msg[] = [];
  let closed: { code: number; reason: string } | undefined;
  ws.onmessage = (e) => received.push(JSON.parse(String(e.data)) as Msg);
  ws.onclose = (e) => (closed = { code: e.code, reason: e.reason });
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const send = (m: Msg) => ws.send(JSON.stringify(m));
  send({ type: "Connect", sessionId, connectionCount: 0, lastCloseReason: null, clientTs: Date.now() });
  return {
    send,
    received,
    get closed() {
      return closed;
    },
    next: (pred: (m: Msg) => boolean, what: string) => eventually(() => received.find(pred), what),
    close: () => ws.close(),
  };
}

const ZERO = "AAAAAAAAAAA=";

describe("sync wire protocol", () => {
  test("transitions chain exactly from version to version", async () => {
    const b = await fixtureBackend();
    const c = await rawClient(b.url);
    c.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [{ type: "Add", queryId: 0, udfPath: "messages:count", args: [{}] }] });
    const t1 = await c.next((m) => m.type === "Transition", "the first transition");
    expect(t1.startVersion).toEqual({ querySet: 0, identity: 0, ts: ZERO });
    expect(t1.endVersion.querySet).toBe(1);
    expect(t1.modifications).toEqual([{ type: "QueryUpdated", queryId: 0, value: 0, logLines: [], journal: null }]);

    c.send({ type: "ModifyQuerySet", baseVersion: 1, newVersion: 2, modifications: [{ type: "Add", queryId: 1, udfPath: "messages.js:list", args: [{}] }, { type: "Remove", queryId: 0 }] });
    const t2 = await c.next((m) => m.type === "Transition" && m.endVersion.querySet === 2, "the second transition");
    expect(t2.startVersion).toEqual(t1.endVersion);
    expect(t2.modifications).toContainEqual({ type: "QueryRemoved", queryId: 0 });
    expect(t2.modifications).toContainEqual({ type: "QueryUpdated", queryId: 1, value: [], logLines: [], journal: null });

    c.send({ type: "Authenticate", tokenType: "Admin", value: b.adminKey, baseVersion: 0 });
    const t3 = await c.next((m) => m.type === "Transition" && m.endVersion.identity === 1, "the identity transition");
    expect(t3.startVersion).toEqual(t2.endVersion);
  });

  // A fresh connection's first (empty) query set change waits for the next Transition, and
  // changes sent together may share one: the client only checks each Transition starts where
  // the last ended.
  test("an empty query set change costs no Transition of its own; later ones carry its version", async () => {
    const b = await fixtureBackend();
    const c = await rawClient(b.url);
    c.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [] });
    c.send({ type: "ModifyQuerySet", baseVersion: 1, newVersion: 2, modifications: [{ type: "Add", queryId: 0, udfPath: "messages:count", args: [{}] }] });
    c.send({ type: "ModifyQuerySet", baseVersion: 2, newVersion: 3, modifications: [{ type: "Add", queryId: 1, udfPath: "messages.js:list", args: [{}] }] });
    await c.next((m) => m.type === "Transition" && m.endVersion.querySet === 3, "the transition reaching version 3");
    const transitions = c.received.filter((m) => m.type === "Transition");
    expect(transitions[0]!.startVersion).toEqual({ querySet: 0, identity: 0, ts: ZERO });
    expect(transitions.some((t) => t.endVersion.querySet === 1)).toBe(false);
    for (let i = 1; i < transitions.length; i++) expect(transitions[i]!.startVersion).toEqual(transitions[i - 1]!.endVersion);
    const updates = transitions.flatMap((t) => t.modifications);
    expect(updates).toContainEqual({ type: "QueryUpdated", queryId: 0, value: 0, logLines: [], journal: null });
    expect(updates).toContainEqual({ type: "QueryUpdated", queryId: 1, value: [], logLines: [], journal: null });
  });

  test("a mutation's response comes before a transition that reaches its timestamp", async () => {
    const b = await fixtureBackend();
    const c = await rawClient(b.url);
    c.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [{ type: "Add", queryId: 0, udfPath: "messages:count", args: [{}] }] });
    await c.next((m) => m.type === "Transition", "the first transition");
    c.send({ type: "Mutation", requestId: 0, udfPath: "messages:send", args: [{ body: "x", author: "y" }] });
    const response = await c.next((m) => m.type === "MutationResponse", "the response");
    const after = await c.next((m) => m.type === "Transition" && c.received.indexOf(m) > c.received.indexOf(response), "a transition after the response");
    expect(response.success).toBe(true);
    expect(decodeTs(after.endVersion.ts)! >= decodeTs(response.ts)!).toBe(true);
    expect(after.modifications).toContainEqual({ type: "QueryUpdated", queryId: 0, value: 1, logLines: [], journal: null });
    // Every transition starts where the previous one ended.
    const transitions = c.received.filter((m) => m.type === "Transition");
    for (let i = 1; i < transitions.length; i++) expect(transitions[i]!.startVersion).toEqual(transitions[i - 1]!.endVersion);
  });

  test("a mutation resent after a reconnect (same session and request id) runs once", async () => {
    const b = await fixtureBackend();
    const first = await rawClient(b.url, "session-A");
    first.send({ type: "Mutation", requestId: 7, udfPath: "messages:send", args: [{ body: "once", author: "a" }] });
    const r1 = await first.next((m) => m.type === "MutationResponse", "the first response");
    first.close();
    const second = await rawClient(b.url, "session-A");
    second.send({ type: "Mutation", requestId: 7, udfPath: "messages:send", args: [{ body: "once", author: "a" }] });
    const r2 = await second.next((m) => m.type === "MutationResponse", "the response to the retry");
    expect(r2.result).toEqual(r1.result);
    expect(await httpClient(b.url).query(api.messages.count, {})).toBe(1);
    // Another session with the same request id is a different request.
    const other = await rawClient(b.url, "session-B");
    other.send({ type: "Mutation", requestId: 7, udfPath: "messages:send", args: [{ body: "twice", author: "b" }] });
    await other.next((m) => m.type === "MutationResponse", "the other session's response");
    expect(await httpClient(b.url).query(api.messages.count, {})).toBe(2);
  });

  test("a backend taking over an engine also recognises mutations its predecessor ran", async () => {
    const first = await fixtureBackend();
    const c1 = await rawClient(first.url, "session-C");
    c1.send({ type: "Mutation", requestId: 0, udfPath: "messages:send", args: [{ body: "once", author: "c" }] });
    const r1 = await c1.next((m) => m.type === "MutationResponse", "the first response");
    await first.stop();
    const second = await fixtureBackend({ engine: first.engine });
    const c2 = await rawClient(second.url, "session-C");
    c2.send({ type: "Mutation", requestId: 0, udfPath: "messages:send", args: [{ body: "once", author: "c" }] });
    expect((await c2.next((m) => m.type === "MutationResponse", "the retry's response")).result).toEqual(r1.result);
    expect(await httpClient(second.url).query(api.messages.count, {})).toBe(1);
  });

  test("the server pings idle connections", async () => {
    const b = await fixtureBackend({ pingIntervalMs: 30 });
    const c = await rawClient(b.url);
    await c.next((m) => m.type === "Ping", "a ping");
  });

  test("a query set change from the wrong base version closes the connection", async () => {
    const b = await fixtureBackend();
    const c = await rawClient(b.url);
    c.send({ type: "ModifyQuerySet", baseVersion: 5, newVersion: 6, modifications: [] });
    await eventually(() => c.closed, "the connection to close");
    expect(c.closed!.code).not.toBe(1000);
  });

  test("user tokens are refused with an AuthError", async () => {
    const b = await fixtureBackend();
    const c = await rawClient(b.url);
    c.send({ type: "Authenticate", tokenType: "User", value: "a.b.c", baseVersion: 0 });
    const e = await c.next((m) => m.type === "AuthError", "an AuthError");
    expect(e.authUpdateAttempted).toBe(true);
  });

  test("other paths do not upgrade, and the HTTP API refuses what it does not know", async () => {
    const b = await fixtureBackend();
    expect((await fetch(`${b.url}/`)).status).toBe(200);
    expect((await fetch(`${b.url}/api/nothing`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${b.url}/api/query`)).status).toBe(405);
    expect((await fetch(`${b.url}/api/query`, { method: "POST", body: "{not json" })).status).toBe(400);
    expect((await fetch(`${b.url}/api/query`, { method: "POST", headers: { authorization: "Bearer x.y.z" }, body: "{}" })).status).toBe(401);
    const ts = (await (await fetch(`${b.url}/api/query_ts`, { method: "POST" })).json()) as { ts: string };
    expect(decodeTs(ts.ts)).toBeGreaterThan(0n);
    const ws = new WebSocket(`${b.url.replace(/^http/, "ws")}/elsewhere`);
    const outcome = await new Promise<string>((resolve) => {
      ws.onopen = () => resolve("open");
      ws.onerror = () => resolve("error");
      ws.onclose = () => resolve("closed");
    });
    expect(outcome).not.toBe("open");
  });
});
