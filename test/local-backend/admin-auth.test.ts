// Internal functions are for admin-key holders only, over HTTP and over the WebSocket; a
// wrong key is an error the admin CLI can recognise, never a silent downgrade.
import { afterEach, describe, expect, test } from "bun:test";
import { api, cleanup, eventually, fixtureBackend, httpClient, watch, wsClient } from "./helpers.ts";
import { rejection } from "../support/rejection.ts";

afterEach(cleanup);

describe("admin key", () => {
  test("the generated admin key is long and random", async () => {
    const a = await fixtureBackend();
    const b = await fixtureBackend();
    expect(a.adminKey).not.toBe(b.adminKey);
    // 24 random bytes as hex: 192 bits.
    expect(a.adminKey).toMatch(/^oco_[0-9a-f]{48}$/);
  });

  test("over HTTP, internal functions are refused without the key (and never run), allowed with it", async () => {
    const b = await fixtureBackend({ adminKey: "test-admin-key-123" });
    const anon = httpClient(b.url);
    await anon.mutation(api.messages.send, { body: "keep me", author: "a" });
    const refused = await rejection(anon.mutation(api.admin.wipe, {}));
    expect(refused.message).toContain("Could not find public function for 'admin:wipe'");
    expect((await rejection(anon.query(api.admin.secret, {}))).message).toContain("Could not find public function for 'admin:secret'");
    expect(await anon.query(api.messages.count, {})).toBe(1);
    const admin = httpClient(b.url, { adminKey: "test-admin-key-123" });
    expect(await admin.query(api.admin.secret, {})).toBe("the secret");
    expect(await admin.mutation(api.admin.wipe, {})).toBe(1);
    // Public functions work with the key too.
    expect(await admin.query(api.messages.count, {})).toBe(0);
  });

  test("over HTTP, a wrong key is a 401 naming the problem", async () => {
    const b = await fixtureBackend();
    const e = await rejection(httpClient(b.url, { adminKey: "not-the-key" }).query(api.messages.count, {}));
    expect(e.message).toContain("BadAdminKey");
    expect(e.message).toContain("wrong admin key");
    const res = await fetch(`${b.url}/api/query`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Convex not-the-key" },
      body: JSON.stringify({ path: "messages:count", args: [{}], format: "convex_encoded_json" }),
    });
    expect(res.status).toBe(401);
  });

  test("/api/function runs any kind with unwrapped args, and respects visibility", async () => {
    const b = await fixtureBackend();
    const call = (path: string, args: unknown, key?: string) =>
      fetch(`${b.url}/api/function`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(key ? { authorization: `Convex ${key}` } : {}) },
        body: JSON.stringify({ path, args, format: "convex_encoded_json" }),
      });
    const sent = await call("messages:send", { body: "f", author: "x" });
    expect(sent.status).toBe(200);
    expect(((await sent.json()) as { status: string }).status).toBe("success");
    expect((await call("admin:secret", {})).status).toBe(560);
    expect(((await (await call("admin:secret", {}, b.adminKey)).json()) as { value: string }).value).toBe("the secret");
  });

  test("over the WebSocket, internal functions need Authenticate with the admin key", async () => {
    const b = await fixtureBackend();
    const anon = wsClient(b.url);
    expect((await rejection(anon.mutation(api.admin.wipe, {}))).message).toContain("Could not find public function");
    const refusedQuery = watch(anon, api.admin.secret);
    expect((await eventually(() => refusedQuery.state.error, "the internal query to fail")).message).toContain("Could not find public function");
    const admin = wsClient(b.url, { adminKey: b.adminKey });
    const secret = watch<string>(admin, api.admin.secret);
    expect(await eventually(() => secret.state.value, "the internal query as admin")).toBe("the secret");
    await admin.mutation(api.messages.send, { body: "x", author: "a" });
    expect(await admin.mutation(api.admin.wipe, {})).toBe(1);
  });

  test("over the WebSocket, a wrong admin key gets an AuthError and no admin rights", async () => {
    const b = await fixtureBackend();
    const ws = new WebSocket(`${b.url.replace("http", "ws")}/api/1.48.0/sync`);
    const messages: Record<string, unknown>[] = [];
    ws.onmessage = (e) => messages.push(JSON.parse(String(e.data)));
    await new Promise((r) => (ws.onopen = r));
    ws.send(JSON.stringify({ type: "Connect", sessionId: "s1", connectionCount: 0, lastCloseReason: null, clientTs: Date.now() }));
    ws.send(JSON.stringify({ type: "Authenticate", tokenType: "Admin", value: "wrong", baseVersion: 0 }));
    ws.send(JSON.stringify({ type: "Mutation", requestId: 0, udfPath: "admin:wipe", args: [{}] }));
    const authError = await eventually(() => messages.find((m) => m.type === "AuthError"), "an AuthError");
    expect(String(authError.error)).toContain("wrong admin key");
    const response = await eventually(() => messages.find((m) => m.type === "MutationResponse"), "the mutation response");
    expect(response.success).toBe(false);
    ws.close();
  });

  test("the real client with a wrong key keeps working for public functions", async () => {
    const b = await fixtureBackend();
    const c = wsClient(b.url, { adminKey: "wrong-key-xyz" });
    const w = watch<number>(c, api.messages.count);
    expect(await eventually(() => (w.state.value === 0 ? 0 : undefined), "a public query")).toBe(0);
    expect((await rejection(c.mutation(api.admin.wipe, {}))).message).toContain("Could not find public function");
  });
});
