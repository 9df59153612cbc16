// Person-side chat: sessions, prompts, cancellation and reading answers back.
import { describe, expect, test } from "bun:test";
import { adminApi, chatApi, workerApi } from "../../src/backend/api.ts";
import { addWorker, expectCode, message, messageRow, newBackend, onlineWorker, queuePrompt, runningPrompt } from "./setup.ts";

describe("chat:createSession", () => {
  test("by worker name or id, with a default title", async () => {
    const t = newBackend();
    const w = await addWorker(t, "laptop", "web");
    const a = await t.mutation(chatApi.createSession, { worker: "web" });
    const b = await t.mutation(chatApi.createSession, { worker: w.workerId, title: "Fix the build" });
    expect(a.workerId).toBe(w.workerId);
    expect(b.workerId).toBe(w.workerId);
    const titles = await t.run(async (ctx) => (await ctx.db.query("sessions").collect()).map((s) => s.title));
    expect(titles).toEqual(["New session", "Fix the build"]);
  });

  test("refuses unknown and revoked workers and bad titles", async () => {
    const t = newBackend();
    const w = await addWorker(t);
    await expectCode(t.mutation(chatApi.createSession, { worker: "ghost" }), "NOT_FOUND");
    await expectCode(t.mutation(chatApi.createSession, { worker: w.workerId, title: "" }), "INVALID");
    await t.mutation(adminApi.revoke, { worker: w.workerId });
    await expectCode(t.mutation(chatApi.createSession, { worker: w.workerId }), "WORKER_REVOKED");
  });
});

describe("chat:send", () => {
  test("stores the prompt and queues an answer for the session's worker", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { sessionId } = await t.mutation(chatApi.createSession, { worker: w.workerId });
    const sent = await t.mutation(chatApi.send, { sessionId, text: "What is 2+2?" });
    const list = await t.query(chatApi.messages, { sessionId });
    expect(list.map((m) => [m.messageId, m.role, m.status, m.text])).toEqual([
      [sent.userMessageId, "user", null, "What is 2+2?"],
      [sent.messageId, "assistant", "queued", ""],
    ]);
    expect((await t.query(workerApi.pendingWork, { auth: w.auth })).queued[0]!.prompt).toBe("What is 2+2?");
  });

  test("a pending worker's messages queue; a revoked worker's session takes no more", async () => {
    const t = newBackend();
    const w = await addWorker(t);
    const { sessionId } = await t.mutation(chatApi.createSession, { worker: w.workerId });
    const { messageId } = await t.mutation(chatApi.send, { sessionId, text: "early" });
    expect((await message(t, messageId)).status).toBe("queued");
    await t.mutation(adminApi.revoke, { worker: w.workerId });
    await expectCode(t.mutation(chatApi.send, { sessionId, text: "late" }), "WORKER_REVOKED");
  });

  test("refuses empty or oversized text and unknown sessions", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { sessionId } = await t.mutation(chatApi.createSession, { worker: w.workerId });
    await expectCode(t.mutation(chatApi.send, { sessionId, text: "  " }), "INVALID");
    await expectCode(t.mutation(chatApi.send, { sessionId, text: "x".repeat(100_001) }), "INVALID");
    await expectCode(t.mutation(chatApi.send, { sessionId: "nope", text: "hi" }), "NOT_FOUND");
    await expectCode(t.query(chatApi.messages, { sessionId: "nope" }), "NOT_FOUND");
  });
});

describe("chat:cancel", () => {
  test("a queued answer is cancelled at once and never reaches the worker", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await queuePrompt(t, w);
    expect(await t.mutation(chatApi.cancel, { messageId })).toEqual({ status: "cancelled" });
    expect((await message(t, messageId)).status).toBe("cancelled");
    expect((await t.query(workerApi.pendingWork, { auth: w.auth })).queued).toEqual([]);
    expect((await t.mutation(workerApi.claim, { auth: w.auth, instanceId: w.instanceId, messageId })).claimed).toBe(false);
  });

  test("a running answer gets a cancel request; the worker finishes it as cancelled", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    expect(await t.mutation(chatApi.cancel, { messageId })).toEqual({ status: "running" });
    expect(await t.mutation(chatApi.cancel, { messageId })).toEqual({ status: "running" });
    expect((await messageRow(t, messageId)).cancelRequested).toBe(true);
    expect((await t.query(workerApi.pendingWork, { auth: w.auth })).cancelRequested).toEqual([messageId]);
    await t.mutation(workerApi.finish, { auth: w.auth, instanceId: w.instanceId, messageId, outcome: "cancelled" });
    expect((await message(t, messageId)).status).toBe("cancelled");
    expect((await t.query(workerApi.pendingWork, { auth: w.auth })).cancelRequested).toEqual([]);
  });

  test("a final answer is unchanged", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    await t.mutation(workerApi.finish, { auth: w.auth, instanceId: w.instanceId, messageId, outcome: "completed" });
    expect(await t.mutation(chatApi.cancel, { messageId })).toEqual({ status: "completed" });
    expect((await messageRow(t, messageId)).cancelRequested).toBe(false);
  });

  test("refuses unknown ids and user messages", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { sessionId } = await t.mutation(chatApi.createSession, { worker: w.workerId });
    const { userMessageId } = await t.mutation(chatApi.send, { sessionId, text: "hi" });
    await expectCode(t.mutation(chatApi.cancel, { messageId: "nope" }), "NOT_FOUND");
    await expectCode(t.mutation(chatApi.cancel, { messageId: userMessageId }), "INVALID");
  });
});

describe("chat:message / chat:messages", () => {
  test("assemble output from batches in order, with counts, reasons and times", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { sessionId, messageId } = await runningPrompt(t, w, "count");
    const base = { auth: w.auth, instanceId: w.instanceId, messageId };
    for (const [seq, text] of ["one ", "two ", "three"].entries()) {
      await t.mutation(workerApi.appendOutput, { ...base, seq, text });
    }
    await t.mutation(workerApi.finish, { ...base, outcome: "failed", reason: "ran out of tokens" });
    const view = await message(t, messageId);
    expect(view).toMatchObject({
      messageId,
      sessionId,
      role: "assistant",
      status: "failed",
      text: "one two three",
      reason: "ran out of tokens",
      outputBatches: 3,
    });
    expect(view.finishedAt).toBeGreaterThanOrEqual(view.createdAt);
    expect(await t.query(chatApi.messages, { sessionId })).toEqual([
      expect.objectContaining({ role: "user", text: "count", outputBatches: 0, finishedAt: null }),
      view,
    ]);
  });

  test("an unknown message is null", async () => {
    const t = newBackend();
    expect(await t.query(chatApi.message, { messageId: "nope" })).toBeNull();
  });

  test("messages of one session only, in order across several prompts", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const one = await queuePrompt(t, w, "a");
    await t.mutation(chatApi.send, { sessionId: one.sessionId, text: "b" });
    await queuePrompt(t, w, "elsewhere");
    const texts = (await t.query(chatApi.messages, { sessionId: one.sessionId })).map((m) => `${m.role}:${m.text}`);
    expect(texts).toEqual(["user:a", "assistant:", "user:b", "assistant:"]);
  });
});
