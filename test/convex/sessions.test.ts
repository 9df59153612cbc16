// sessions:list — a worker's sessions for the web page, most recently used first.
import { describe, expect, test } from "bun:test";
import { chatApi, sessionsApi } from "../../src/backend/api.ts";
import { SESSION_TITLE_CHARS, SESSIONS_LIST_MAX } from "../../convex/sessions.ts";
import { addWorker, expectCode, newBackend } from "./setup.ts";

describe("sessions:list", () => {
  test("newest activity first, titled by the stored title or else the first prompt, one worker only", async () => {
    const t = newBackend();
    const w = await addWorker(t, "laptop", "web");
    const other = await addWorker(t, "laptop", "other");
    const named = await t.mutation(chatApi.createSession, { worker: "web", title: "Fix the build" });
    const untitled = await t.mutation(chatApi.createSession, { worker: "web" });
    await t.mutation(chatApi.createSession, { worker: "other", title: "not listed" });
    const long = "x".repeat(SESSION_TITLE_CHARS + 20);
    await t.mutation(chatApi.send, { sessionId: untitled.sessionId, text: `${long}\nsecond line` });
    // Both were used within the same millisecond or two; set when, so the order is certain:
    // the older session, used last, leads.
    await t.run(async (ctx) => {
      await ctx.db.patch(ctx.db.normalizeId("sessions", named.sessionId)!, { lastActivityAt: 2_000 });
      await ctx.db.patch(ctx.db.normalizeId("sessions", untitled.sessionId)!, { lastActivityAt: 1_000 });
    });
    const list = await t.query(sessionsApi.list, { worker: w.workerId });
    expect(list.map((s) => s.sessionId)).toEqual([named.sessionId, untitled.sessionId]);
    expect(list[0]!.title).toBe("Fix the build");
    expect(list[1]!.title).toBe("x".repeat(SESSION_TITLE_CHARS - 1) + "…");
    expect(list.map((s) => s.lastActivityAt)).toEqual([2_000, 1_000]);
    expect((await t.query(sessionsApi.list, { worker: other.name })).map((s) => s.title)).toEqual(["not listed"]);
  });

  test("a session without prompts keeps the default title; limit is bounded", async () => {
    const t = newBackend();
    await addWorker(t, "laptop", "web");
    await t.mutation(chatApi.createSession, { worker: "web" });
    await t.mutation(chatApi.createSession, { worker: "web" });
    expect((await t.query(sessionsApi.list, { worker: "web", limit: 1 })).map((s) => s.title)).toEqual(["New session"]);
    await expectCode(t.query(sessionsApi.list, { worker: "web", limit: 0 }), "INVALID");
    await expectCode(t.query(sessionsApi.list, { worker: "web", limit: SESSIONS_LIST_MAX + 1 }), "INVALID");
    await expectCode(t.query(sessionsApi.list, { worker: "ghost" }), "NOT_FOUND");
  });
});
