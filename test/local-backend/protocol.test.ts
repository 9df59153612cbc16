// The real `convex` clients (ConvexClient over WebSocket, ConvexHttpClient over HTTP) against
// the embedded backend serving the fixture functions, under Bun. node-clients.test.ts runs
// the same kind of scenarios from a Node process.
import { afterEach, describe, expect, test } from "bun:test";
import { ConvexError } from "convex/values";
import { api, cleanup, eventually, fixtureBackend, httpClient, watch, wsClient } from "./helpers.ts";
import { rejection } from "../support/rejection.ts";

type Row = { id: string; body: string; author: string; status: string; claimedBy: string | null };

afterEach(cleanup);

describe("subscriptions", () => {
  test("a subscriber sees writes by another WebSocket client and by an HTTP client", async () => {
    const b = await fixtureBackend();
    const reader = wsClient(b.url);
    const writer = wsClient(b.url);
    const w = watch<Row[]>(reader, api.messages.list);
    await eventually(() => w.state.value?.length === 0, "the first (empty) result");
    await writer.mutation(api.messages.send, { body: "from ws", author: "w" });
    await httpClient(b.url).mutation(api.messages.send, { body: "from http", author: "h" });
    const rows = await eventually(() => (w.state.value?.length === 2 ? w.state.value : undefined), "both writes");
    expect(rows.map((r) => r.body).sort()).toEqual(["from http", "from ws"]);
  });

  test("a query error arrives as an error with its ConvexError data, and the subscription recovers", async () => {
    const b = await fixtureBackend();
    const c = wsClient(b.url);
    const w = watch<number>(c, api.messages.atLeast, { min: 1 });
    const err = await eventually(() => w.state.error, "the query to fail");
    expect(err).toBeInstanceOf(ConvexError);
    expect((err as ConvexError<{ code: string; have: number }>).data).toEqual({ code: "TOO_FEW", have: 0 });
    await c.mutation(api.messages.send, { body: "x", author: "a" });
    expect(await eventually(() => w.state.value, "the query to succeed")).toBe(1);
  });

  test("a plain query error carries its message", async () => {
    const b = await fixtureBackend();
    const w = watch(wsClient(b.url), api.messages.boom);
    const err = await eventually(() => w.state.error, "the query to fail");
    expect(err.message).toContain("kaboom");
    expect(err).not.toBeInstanceOf(ConvexError);
  });

  test("unsubscribing and subscribing again keeps the connection in step", async () => {
    const b = await fixtureBackend();
    const c = wsClient(b.url);
    const first = watch<number>(c, api.messages.count);
    await eventually(() => first.state.value === 0, "count 0");
    first.unsubscribe();
    await c.mutation(api.messages.send, { body: "x", author: "a" });
    const second = watch<number>(c, api.messages.count);
    await eventually(() => second.state.value === 1, "count 1 after resubscribing");
    const third = watch<Row[]>(c, api.messages.list);
    await c.mutation(api.messages.send, { body: "y", author: "a" });
    await eventually(() => second.state.value === 2 && third.state.value?.length === 2, "both subscriptions updated");
  });

  test("Convex-encoded values (int64, bytes) round-trip both ways", async () => {
    const b = await fixtureBackend();
    const viaWs = (await wsClient(b.url).query(api.messages.big, { n: 21n })) as { doubled: bigint; bytes: ArrayBuffer };
    const viaHttp = (await httpClient(b.url).query(api.messages.big, { n: 21n })) as { doubled: bigint; bytes: ArrayBuffer };
    for (const v of [viaWs, viaHttp]) {
      expect(v.doubled).toBe(42n);
      expect([...new Uint8Array(v.bytes)]).toEqual([1, 2, 3]);
    }
  });

  test("console output of a function reaches the client as log lines", async () => {
    const b = await fixtureBackend();
    const lines: string[] = [];
    const logger = { log: (...a: unknown[]) => lines.push(a.join(" ")), warn: () => {}, error: () => {}, logVerbose: () => {} };
    const { ConvexHttpClient } = await import("convex/browser");
    const c = new ConvexHttpClient(b.url, { logger });
    expect(await c.query(api.messages.noisy, {})).toBe("quiet");
    expect(lines.join("\n")).toContain("hello from a query 42");
  });
});

describe("mutations and actions", () => {
  test("a mutation resolves with its value and the writer reads its own write", async () => {
    const b = await fixtureBackend();
    const c = wsClient(b.url);
    const id = await c.mutation(api.messages.send, { body: "mine", author: "me" });
    expect(typeof id).toBe("string");
    const rows = (await c.query(api.messages.list, {})) as Row[];
    expect(rows.map((r) => r.id)).toContain(id as string);
  });

  test("actions return values, and writes made by an action reach subscribers", async () => {
    const b = await fixtureBackend();
    const c = wsClient(b.url);
    expect(await c.action(api.actions.shout, { text: "hey" })).toBe("HEY");
    expect(await httpClient(b.url).action(api.actions.shout, { text: "ho" })).toBe("HO");
    const w = watch<Row[]>(c, api.messages.list);
    await c.action(api.actions.sendVia, { body: "by action" });
    const rows = await eventually(() => (w.state.value?.length === 1 ? w.state.value : undefined), "the action's write");
    expect(rows[0]!.author).toBe("action");
  });

  test("ConvexError data of mutations and actions reaches both clients", async () => {
    const b = await fixtureBackend();
    const ws = wsClient(b.url);
    const http = httpClient(b.url);
    for (const e of [
      await rejection(ws.mutation(api.messages.failWithData, { code: "E1" })),
      await rejection(http.mutation(api.messages.failWithData, { code: "E1" })),
    ]) {
      expect(e).toBeInstanceOf(ConvexError);
      expect((e as ConvexError<any>).data).toEqual({ code: "E1", detail: "fixture failure" });
    }
    for (const e of [await rejection(ws.action(api.actions.refuse, {})), await rejection(http.action(api.actions.refuse, {}))]) {
      expect(e).toBeInstanceOf(ConvexError);
      expect((e as ConvexError<any>).data).toEqual({ code: "ACTION_REFUSED" });
    }
  });

  test("argument validation, unknown functions and wrong kinds fail clearly", async () => {
    const b = await fixtureBackend();
    const http = httpClient(b.url);
    const ws = wsClient(b.url);
    expect((await rejection(http.mutation(api.messages.send, { body: 1 } as never))).message).toMatch(/body|validator|string/i);
    expect((await rejection(ws.mutation(api.messages.nothing, {}))).message).toContain("Could not find public function for 'messages:nothing'");
    expect((await rejection(http.query(api.messages.send as never, { body: "x", author: "y" } as never))).message).toContain("defined as Mutation");
  });

  test("concurrent claims of one message over WebSocket and HTTP: exactly one wins", async () => {
    const b = await fixtureBackend();
    const id = (await httpClient(b.url).mutation(api.messages.send, { body: "job", author: "q" })) as string;
    const wsClaims = Array.from({ length: 8 }, (_, i) => wsClient(b.url).mutation(api.messages.claim, { id, who: `ws${i}` }));
    const httpClaims = Array.from({ length: 8 }, (_, i) => httpClient(b.url).mutation(api.messages.claim, { id, who: `http${i}` }));
    const results = (await Promise.all([...wsClaims, ...httpClaims])) as { claimed: boolean; by: string }[];
    const winners = results.filter((r) => r.claimed);
    expect(winners).toHaveLength(1);
    for (const r of results) expect(r.by).toBe(winners[0]!.by);
  });

  test("twenty clients writing at once converge on the same state", async () => {
    const b = await fixtureBackend();
    const clients = Array.from({ length: 20 }, () => wsClient(b.url));
    const watches = clients.map((c) => watch<number>(c, api.messages.count));
    await Promise.all(clients.map((c, i) => Promise.all(Array.from({ length: 5 }, (_, j) => c.mutation(api.messages.send, { body: `${i}.${j}`, author: `c${i}` })))));
    await eventually(() => watches.every((w) => w.state.value === 100), "every client to see 100 messages");
    const lists = await Promise.all(clients.map((c) => c.query(api.messages.list, {}) as Promise<Row[]>));
    const ids = lists.map((l) => l.map((r) => r.id).sort().join(","));
    expect(new Set(ids).size).toBe(1);
  });
});
