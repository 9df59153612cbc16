// Routing by tags: sessions addressed to a tag set go to a qualifying worker with the most free
// capacity, wait when none has room, and move when their worker goes away for good.
import { describe, expect, test } from "bun:test";
import { makeFunctionReference } from "convex/server";
import { adminApi, chatApi, workerApi } from "../../src/backend/api.ts";
import { REROUTE_AFTER_MS } from "../../convex/lib/constants.ts";
import { addWorker, expectCode, INFO, message, messageRow, newBackend, type Backend, type TestWorker } from "./setup.ts";

const rerouteGone = makeFunctionReference<"mutation", { workerId: string; offlineAt: number }, { moved: number }>("routing:rerouteGone");

async function tagged(t: Backend, name: string, tags: string[], capacity: number): Promise<TestWorker> {
  const w = await addWorker(t, "laptop", name);
  await t.mutation(adminApi.approve, { worker: w.workerId });
  await t.mutation(workerApi.register, { auth: w.auth, instanceId: w.instanceId, info: INFO, routing: { tags, capacity } });
  return w;
}

async function sendTo(t: Backend, tags: string[], text = "hello") {
  const { sessionId, workerId } = await t.mutation(chatApi.createSession, { tags, title: "routed" });
  expect(workerId).toBeNull();
  const sent = await t.mutation(chatApi.send, { sessionId, text });
  return { sessionId, ...sent };
}

/** Sessions with an open (queued or running) answer per worker, from the stored rows. */
async function openPerWorker(t: Backend): Promise<Record<string, number>> {
  const rows = await t.run(async (ctx) => await ctx.db.query("messages").collect());
  const sessions: Record<string, Set<string>> = {};
  for (const m of rows) {
    if (m.role !== "assistant" || (m.status !== "queued" && m.status !== "running")) continue;
    (sessions[m.workerId] ??= new Set()).add(m.sessionId);
  }
  return Object.fromEntries(Object.entries(sessions).map(([k, v]) => [k, v.size]));
}

async function finishOne(t: Backend, w: TestWorker): Promise<void> {
  const work = await t.query(workerApi.pendingWork, { auth: w.auth });
  const next = work.queued[0]!;
  expect((await t.mutation(workerApi.claim, { auth: w.auth, instanceId: w.instanceId, messageId: next.messageId })).claimed).toBe(true);
  await t.mutation(workerApi.finish, { auth: w.auth, instanceId: w.instanceId, messageId: next.messageId, outcome: "completed" });
}

describe("routing by tags", () => {
  test("ten sessions spread over the two api workers by capacity; the untagged one gets none", async () => {
    const t = newBackend();
    const a = await tagged(t, "a", ["api", "linux"], 4);
    const b = await tagged(t, "b", ["api"], 6);
    const plain = await tagged(t, "plain", [], 8);
    const sent = [];
    for (let i = 0; i < 10; i++) sent.push(await sendTo(t, ["api"], `task ${i}`));
    expect(sent.every((s) => s.workerId === a.workerId || s.workerId === b.workerId)).toBe(true);
    expect(await openPerWorker(t)).toEqual({ [a.workerId]: 4, [b.workerId]: 6 });
    expect((await t.query(workerApi.pendingWork, { auth: plain.auth })).queued).toHaveLength(0);
    // Each worker sees exactly its own in pendingWork.
    expect((await t.query(workerApi.pendingWork, { auth: a.auth })).queued).toHaveLength(4);
    expect((await t.query(workerApi.pendingWork, { auth: b.auth })).queued).toHaveLength(6);
  });

  test("every tag must match; a paused worker gets no new work; resumed it does", async () => {
    const t = newBackend();
    const a = await tagged(t, "a", ["api", "linux"], 4);
    const b = await tagged(t, "b", ["api"], 4);
    expect((await sendTo(t, ["api", "linux"])).workerId).toBe(a.workerId);
    await t.mutation(adminApi.setPaused, { worker: "a", paused: true });
    for (let i = 0; i < 3; i++) expect((await sendTo(t, ["api"])).workerId).toBe(b.workerId);
    // Only a has linux, and it is paused: the session waits, then goes to a once resumed.
    const waiting = await sendTo(t, ["api", "linux"]);
    expect(waiting.workerId).toBeNull();
    expect((await message(t, waiting.messageId)).workerId).toBeNull();
    await t.mutation(adminApi.setPaused, { worker: "a", paused: false });
    expect((await message(t, waiting.messageId)).workerId).toBe(a.workerId);
  });

  test("no qualifying worker: the prompt waits unseen by any worker, then runs where one comes online", async () => {
    const t = newBackend();
    const other = await tagged(t, "other", ["web"], 4);
    const waiting = await sendTo(t, ["api"]);
    expect(waiting.workerId).toBeNull();
    expect((await t.query(workerApi.pendingWork, { auth: other.auth })).queued).toHaveLength(0);
    // Another prompt to the waiting session waits with it.
    const second = await t.mutation(chatApi.send, { sessionId: waiting.sessionId, text: "and then" });
    expect(second.workerId).toBeNull();
    const api = await addWorker(t, "server", "api-1");
    await t.mutation(adminApi.approve, { worker: api.workerId });
    expect((await message(t, waiting.messageId)).workerId).toBeNull();
    await t.mutation(workerApi.register, { auth: api.auth, instanceId: api.instanceId, info: INFO, routing: { tags: ["api"], capacity: 2 } });
    expect((await message(t, waiting.messageId)).workerId).toBe(api.workerId);
    expect((await message(t, second.messageId)).workerId).toBe(api.workerId);
    const work = await t.query(workerApi.pendingWork, { auth: api.auth });
    expect(work.queued.map((q) => q.messageId)).toEqual([waiting.messageId]);
  });

  test("full workers: sessions wait and are routed as answers finish", async () => {
    const t = newBackend();
    const a = await tagged(t, "a", ["api"], 1);
    const first = await sendTo(t, ["api"]);
    const second = await sendTo(t, ["api"]);
    expect(first.workerId).toBe(a.workerId);
    expect(second.workerId).toBeNull();
    await finishOne(t, a);
    expect((await message(t, second.messageId)).workerId).toBe(a.workerId);
    // Cancelling a queued answer frees its slot too.
    const third = await sendTo(t, ["api"]);
    expect(third.workerId).toBeNull();
    await t.mutation(chatApi.cancel, { messageId: second.messageId });
    expect((await message(t, third.messageId)).workerId).toBe(a.workerId);
    // The routed session stays with its worker for later prompts, even when the worker is full.
    const later = await t.mutation(chatApi.send, { sessionId: first.sessionId, text: "more" });
    expect(later.workerId).toBe(a.workerId);
  });

  test("the holder revoked: queued prompts move to another api worker with the note, on a fresh agent session", async () => {
    const t = newBackend();
    const a = await tagged(t, "a", ["api"], 4);
    const s = await sendTo(t, ["api"]);
    expect(s.workerId).toBe(a.workerId);
    await t.mutation(workerApi.bindSession, { auth: a.auth, sessionId: s.sessionId, agentSessionId: "ses_on_a" });
    const queuedBehind = await t.mutation(chatApi.send, { sessionId: s.sessionId, text: "second" });
    const b = await tagged(t, "b", ["api"], 4);
    await t.mutation(adminApi.revoke, { worker: "a" });
    for (const id of [s.messageId, queuedBehind.messageId]) {
      const view = await message(t, id);
      expect(view.status).toBe("queued");
      expect(view.workerId).toBe(b.workerId);
      expect(view.movedFrom).toBe("a");
    }
    const work = await t.query(workerApi.pendingWork, { auth: b.auth });
    expect(work.queued).toEqual([expect.objectContaining({ messageId: s.messageId, agentSessionId: null })]);
    // Sessions addressed to a worker by name are not moved: they end as before.
    const named = await tagged(t, "c", ["api"], 4);
    const { sessionId } = await t.mutation(chatApi.createSession, { worker: "c" });
    const byName = await t.mutation(chatApi.send, { sessionId, text: "only c" });
    await t.mutation(adminApi.revoke, { worker: named.workerId });
    expect((await message(t, byName.messageId)).status).toBe("cancelled");
  });

  test("the holder offline longer than the reroute period: its queued prompts move; back in time: they stay", async () => {
    const t = newBackend();
    const a = await tagged(t, "a", ["api"], 4);
    const s = await sendTo(t, ["api"]);
    const b = await tagged(t, "b", ["api"], 4);
    await t.mutation(workerApi.goOffline, { auth: a.auth, instanceId: a.instanceId });
    const offlineAt = Date.now();
    // The worker came back (and beat) before the scheduled check: nothing moves.
    await t.mutation(workerApi.register, { auth: a.auth, instanceId: a.instanceId, info: INFO, routing: { tags: ["api"], capacity: 4 } });
    expect((await t.mutation(rerouteGone, { workerId: a.workerId, offlineAt })).moved).toBe(0);
    await t.mutation(workerApi.goOffline, { auth: a.auth, instanceId: a.instanceId });
    await t.run(async (ctx) => {
      const row = await ctx.db.query("liveness").withIndex("by_workerId", (q) => q.eq("workerId", a.workerId)).unique();
      await ctx.db.patch(row!._id, { lastHeartbeatAt: Date.now() - REROUTE_AFTER_MS - 1 });
    });
    expect((await t.mutation(rerouteGone, { workerId: a.workerId, offlineAt: Date.now() })).moved).toBe(1);
    const view = await message(t, s.messageId);
    expect(view.movedFrom).toBe("a");
    expect(view.workerId).not.toBe(a.workerId);
    // A prompt sent later to a session whose holder is long gone moves at once, with the note.
    expect(view.workerId).toBe(b.workerId);
    await t.mutation(workerApi.goOffline, { auth: b.auth, instanceId: b.instanceId });
    await t.run(async (ctx) => {
      const row = await ctx.db.query("liveness").withIndex("by_workerId", (q) => q.eq("workerId", b.workerId)).unique();
      await ctx.db.patch(row!._id, { lastHeartbeatAt: Date.now() - REROUTE_AFTER_MS - 1 });
    });
    await t.mutation(workerApi.register, { auth: a.auth, instanceId: a.instanceId, info: INFO, routing: { tags: ["api"], capacity: 4 } });
    const later = await t.mutation(chatApi.send, { sessionId: s.sessionId, text: "still there?" });
    expect(later.workerId).toBe(a.workerId);
    expect((await message(t, later.messageId)).movedFrom).toBe("b");
    expect((await message(t, s.messageId)).workerId).toBe(a.workerId);
    expect((await messageRow(t, s.messageId)).movedFrom).toBe("b");
  });

  test("bad input: both or neither of worker and tags, bad tags, bad capacity", async () => {
    const t = newBackend();
    await tagged(t, "a", ["api"], 1);
    await expectCode(t.mutation(chatApi.createSession, { worker: "a", tags: ["api"] } as never), "INVALID");
    await expectCode(t.mutation(chatApi.createSession, {} as never), "INVALID");
    await expectCode(t.mutation(chatApi.createSession, { tags: [] }), "INVALID");
    await expectCode(t.mutation(chatApi.createSession, { tags: ["has space"] }), "INVALID");
    await expectCode(t.mutation(chatApi.createSession, { tags: Array.from({ length: 17 }, (_, i) => `t${i}`) }), "INVALID");
    const w = await addWorker(t, "laptop", "b");
    await expectCode(t.mutation(workerApi.register, { auth: w.auth, instanceId: w.instanceId, info: INFO, routing: { tags: ["api"], capacity: 0 } }), "INVALID");
    await expectCode(t.mutation(workerApi.register, { auth: w.auth, instanceId: w.instanceId, info: INFO, routing: { tags: ["-x"], capacity: 1 } }), "INVALID");
    const listed = await t.query(adminApi.list, {});
    expect(listed.find((x) => x.name === "a")).toMatchObject({ tags: ["api"], capacity: 1 });
  });

  test("many sessions created at once never put a worker over its capacity", async () => {
    const t = newBackend();
    const a = await tagged(t, "a", ["api"], 3);
    const b = await tagged(t, "b", ["api"], 5);
    const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => sendTo(t, ["api"], `task ${i}`)));
    const counts = await openPerWorker(t);
    expect(counts[a.workerId]).toBe(3);
    expect(counts[b.workerId]).toBe(5);
    expect(counts[""]).toBe(12);
    expect(sent.filter((s) => s.workerId === null)).toHaveLength(12);
    // As answers finish, the waiting ones are routed, still never above capacity.
    for (let i = 0; i < 4; i++) {
      await Promise.all([finishOne(t, a), finishOne(t, b)]);
      const now = await openPerWorker(t);
      expect(now[a.workerId]).toBeLessThanOrEqual(3);
      expect(now[b.workerId]).toBeLessThanOrEqual(5);
    }
    expect((await openPerWorker(t))[""]).toBe(4);
  });

  test("a model for a session still waiting is checked against the models of the workers with its tags", async () => {
    const t = newBackend();
    const api = await tagged(t, "api-busy", ["api"], 1);
    const web = await tagged(t, "web", ["web"], 4);
    const model = (modelId: string) => ({ providerId: "stub", modelId, name: modelId });
    await t.mutation(workerApi.publishModels, { auth: api.auth, models: [model("fast")] });
    await t.mutation(workerApi.publishModels, { auth: web.auth, models: [model("slow")] });
    await sendTo(t, ["api"]); // fills api-busy: the next api session waits
    const { sessionId } = await t.mutation(chatApi.createSession, { tags: ["api"] });
    const refused = await expectCode(t.mutation(chatApi.send, { sessionId, text: "x", model: "stub/slow" }), "INVALID");
    expect(refused.message).toBe('No worker tagged api has the model "stub/slow". Their models: stub/fast.');
    const waiting = await t.mutation(chatApi.send, { sessionId, text: "x", model: "stub/fast" });
    expect(waiting.workerId).toBeNull();
    expect((await messageRow(t, waiting.messageId)).model).toBe("stub/fast");
  });
});
