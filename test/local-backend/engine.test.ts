// The engine alone (no sockets): visibility, kinds, serialization, log capture, commits.
import { describe, expect, test } from "bun:test";
import { createEngine, type CallOutcome } from "../../src/local-backend/engine.ts";
import { canonicalUdfPath } from "../../src/local-backend/functions.ts";
import { modules, schema } from "./fixtures/modules.ts";

const publicCaller = { admin: false };
const admin = { admin: true };

function ok(o: CallOutcome) {
  if (!o.success) throw new Error(`expected success, got ${o.errorMessage}`);
  return o;
}

describe("engine", () => {
  test("canonical udf paths match the client's", () => {
    expect(canonicalUdfPath("messages.js:list")).toBe("messages:list");
    expect(canonicalUdfPath("dir/mod")).toBe("dir/mod:default");
    expect(canonicalUdfPath("messages:list")).toBe("messages:list");
  });

  test("runs public functions and refuses internal ones without admin, like a missing function", async () => {
    const engine = createEngine({ schema, modules });
    ok(await engine.call({ udfPath: "messages:send", args: { body: "a", author: "x" }, caller: publicCaller }));
    const internal = await engine.call({ udfPath: "admin:secret", args: {}, caller: publicCaller });
    const missing = await engine.call({ udfPath: "admin:nothing", args: {}, caller: publicCaller });
    expect(internal.success).toBe(false);
    expect(missing.success).toBe(false);
    if (internal.success || missing.success) return;
    expect(internal.errorMessage).toBe(missing.errorMessage.replace("admin:nothing", "admin:secret"));
    expect(ok(await engine.call({ udfPath: "admin:secret", args: {}, caller: admin })).value).toBe("the secret");
  });

  test("an internal mutation refused without admin never runs", async () => {
    const engine = createEngine({ schema, modules });
    ok(await engine.call({ udfPath: "messages:send", args: { body: "a", author: "x" }, caller: publicCaller }));
    expect((await engine.call({ udfPath: "admin:wipe", args: {}, caller: publicCaller })).success).toBe(false);
    expect(ok(await engine.call({ udfPath: "messages:count", args: {}, caller: publicCaller })).value).toBe(1);
  });

  test("a kind mismatch is an error", async () => {
    const engine = createEngine({ schema, modules });
    const o = await engine.call({ udfPath: "messages:list", args: {}, kind: "mutation", caller: publicCaller });
    expect(o.success).toBe(false);
    if (!o.success) expect(o.errorMessage).toContain("defined as Query");
  });

  test("ConvexError data comes back Convex-JSON encoded", async () => {
    const engine = createEngine({ schema, modules });
    const o = await engine.call({ udfPath: "messages:failWithData", args: { code: "NOPE" }, caller: publicCaller });
    expect(o.success).toBe(false);
    if (!o.success) expect(o.errorData).toEqual({ code: "NOPE", detail: "fixture failure" });
  });

  test("concurrent claims of one message: exactly one wins", async () => {
    const engine = createEngine({ schema, modules });
    const id = ok(await engine.call({ udfPath: "messages:send", args: { body: "job", author: "x" }, caller: publicCaller })).value;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => engine.call({ udfPath: "messages:claim", args: { id, who: `w${i}` }, caller: publicCaller })),
    );
    const wins = results.map((r) => ok(r).value as { claimed: boolean }).filter((v) => v.claimed);
    expect(wins).toHaveLength(1);
  });

  test("mutations get increasing commit timestamps and notify listeners with their origin", async () => {
    const engine = createEngine({ schema, modules });
    const seen: unknown[] = [];
    engine.onCommit((o) => seen.push(o));
    const before = engine.ts;
    const a = ok(await engine.call({ udfPath: "messages:send", args: { body: "1", author: "x" }, caller: publicCaller }, { origin: "me" }));
    const b = ok(await engine.call({ udfPath: "messages:send", args: { body: "2", author: "x" }, caller: publicCaller }));
    expect(a.ts! > before).toBe(true);
    expect(b.ts! > a.ts!).toBe(true);
    expect(seen).toEqual(["me", undefined]);
    // A failed mutation wrote nothing: no notification.
    await engine.call({ udfPath: "messages:failWithData", args: { code: "X" }, caller: publicCaller });
    expect(seen).toHaveLength(2);
  });

  test("console output of a function becomes its log lines, not stdout", async () => {
    const engine = createEngine({ schema, modules });
    const o = ok(await engine.call({ udfPath: "messages:noisy", args: {}, caller: publicCaller }));
    expect(o.logLines).toEqual(["[LOG] hello from a query 42"]);
  });

  test("admins may act as a user identity", async () => {
    const engine = createEngine({ schema, modules });
    const o = ok(await engine.call({ udfPath: "messages:whoami", args: {}, caller: { admin: true, identity: { subject: "alice" } } }));
    expect(o.value).toBe("alice");
  });
});
