// Issue 9, "cheaper on a real deployment": what a heartbeat writes must not re-run the
// worker's own subscriptions, and pendingWork sends a bounded window, not the whole queue.
import { describe, expect, test } from "bun:test";
import { adminApi, chatApi, workerApi } from "../../src/backend/api.ts";
import * as workers from "../../convex/workers.ts";
import { MAX_PROMPT_CHARS, PENDING_PROMPT_CHARS, PENDING_SESSIONS } from "../../convex/lib/constants.ts";
import * as chat from "../../convex/chat.ts";
import { invalidating, readSetOf, writesOf } from "./read-sets.ts";
import { newBackend, onlineWorker, queuePrompt, runningPrompt, type Backend, type TestWorker } from "./setup.ts";


const beat = (t: Backend, w: TestWorker, draining: boolean, runningMessageIds: string[] = []) =>
  writesOf(t, workers.heartbeat, { auth: w.auth, instanceId: w.instanceId, draining, runningMessageIds });

describe("a heartbeat re-runs neither self nor pendingWork", () => {
  test("its writes (liveness, lease extension) fall outside both read sets", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const running = await runningPrompt(t, w, "running");
    await queuePrompt(t, w, "queued");
    const self = await readSetOf(t, workers.self, { auth: w.auth });
    const pending = await readSetOf(t, workers.pendingWork, { auth: w.auth });
    const writes = await beat(t, w, false, [running.messageId]);
    // It does write: the beat and the running message's lease.
    expect(writes.map((x) => x.table).sort()).toEqual(["liveness", "messages"]);
    expect(invalidating(self, writes)).toEqual([]);
    expect(invalidating(pending, writes)).toEqual([]);
  });

  test("a real change of state still reaches them: draining re-runs self, a cancel request re-runs pendingWork", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const running = await runningPrompt(t, w, "running");
    const self = await readSetOf(t, workers.self, { auth: w.auth });
    expect(invalidating(self, await beat(t, w, true, [running.messageId])).map((x) => x.table)).toContain("workers");
    await t.mutation(chatApi.cancel, { messageId: running.messageId });
    const pending = await readSetOf(t, workers.pendingWork, { auth: w.auth });
    expect(invalidating(pending, await beat(t, w, true, [running.messageId])).map((x) => x.id)).toEqual([running.messageId]);
  });

  test("admin list still shows the heartbeat's age", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const before = (await t.query(adminApi.list, {}))[0]!.lastHeartbeatAt!;
    await new Promise((r) => setTimeout(r, 5));
    await t.mutation(workerApi.heartbeat, { auth: w.auth, instanceId: w.instanceId, draining: false, runningMessageIds: [] });
    const after = (await t.query(adminApi.list, {}))[0]!.lastHeartbeatAt!;
    expect(after).toBeGreaterThan(before);
  });

  test("a worker stored before liveness moved keeps its heartbeat until its next beat moves it", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    await t.run(async (ctx) => {
      for (const row of await ctx.db.query("liveness").collect()) await ctx.db.delete(row._id);
      const worker = (await ctx.db.query("workers").collect())[0]!;
      await ctx.db.patch(worker._id, { lastHeartbeatAt: 1_000 });
    });
    expect((await t.query(adminApi.list, {}))[0]!.lastHeartbeatAt).toBe(1_000);
    await t.mutation(workerApi.heartbeat, { auth: w.auth, instanceId: w.instanceId, draining: false, runningMessageIds: [] });
    const worker = await t.run(async (ctx) => (await ctx.db.query("workers").collect())[0]!);
    expect(worker.lastHeartbeatAt).toBeUndefined();
    expect((await t.query(adminApi.list, {}))[0]!.lastHeartbeatAt).toBeGreaterThan(1_000);
  });

  test("the sweep still marks such a worker offline when it went silent before its next beat", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const fresh = await onlineWorker(t, "laptop", "fresh");
    await t.run(async (ctx) => {
      for (const row of await ctx.db.query("liveness").collect()) {
        if (row.workerId === w.workerId) await ctx.db.delete(row._id);
      }
      const worker = (await ctx.db.query("workers").withIndex("by_workerId", (q) => q.eq("workerId", w.workerId)).unique())!;
      await ctx.db.patch(worker._id, { lastHeartbeatAt: 1_000 });
    });
    expect(await t.mutation(adminApi.sweep, {})).toEqual({ requeued: 0, interrupted: 0, offline: 1 });
    expect((await t.query(workerApi.self, { auth: w.auth })).status).toBe("offline");
    expect((await t.query(workerApi.self, { auth: fresh.auth })).status).toBe("online");
    expect((await t.query(adminApi.list, {})).find((x) => x.workerId === w.workerId)!.lastHeartbeatAt).toBe(1_000);
    expect(await t.mutation(adminApi.sweep, {})).toEqual({ requeued: 0, interrupted: 0, offline: 0 });
  });
});

describe("streaming an answer re-runs neither self nor pendingWork; claiming moves the window", () => {
  test("appendOutput and finish of a running answer fall outside both read sets; claim re-runs pendingWork only", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const running = await runningPrompt(t, w, "running");
    const next = await queuePrompt(t, w, "next");
    const self = await readSetOf(t, workers.self, { auth: w.auth });
    const pending = await readSetOf(t, workers.pendingWork, { auth: w.auth });
    const base = { auth: w.auth, instanceId: w.instanceId, messageId: running.messageId };
    const writes = [
      ...(await writesOf(t, workers.appendOutput, { ...base, seq: 0, text: "a" })),
      ...(await writesOf(t, workers.appendOutput, { ...base, seq: 1, text: "b" })),
      ...(await writesOf(t, workers.finish, { ...base, outcome: "completed" })),
      ...(await writesOf(t, workers.publishModels, { auth: w.auth, models: [] })),
    ];
    expect(writes.length).toBeGreaterThan(0);
    expect(invalidating(self, writes)).toEqual([]);
    expect(invalidating(pending, writes)).toEqual([]);
    const claim = await writesOf(t, workers.claim, { auth: w.auth, instanceId: w.instanceId, messageId: next.messageId });
    expect(invalidating(pending, claim).map((x) => x.id)).toEqual([next.messageId]);
    expect(invalidating(self, claim)).toEqual([]);
  });
});

describe("pendingWork sends a bounded window", () => {
  test("once the window is full, prompts queued behind it do not re-run pendingWork; before that they do", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const sendWrites = async (text: string) => {
      const { sessionId } = await t.mutation(chatApi.createSession, { worker: w.workerId });
      return await writesOf(t, chat.send as never, { sessionId, text });
    };
    await queuePrompt(t, w, "small");
    const early = await readSetOf(t, workers.pendingWork, { auth: w.auth });
    expect(invalidating(early, await sendWrites("another")).length).toBeGreaterThan(0);

    const big = "x".repeat(MAX_PROMPT_CHARS);
    for (let i = 0; i <= PENDING_PROMPT_CHARS / MAX_PROMPT_CHARS; i++) await queuePrompt(t, w, big);
    const full = await readSetOf(t, workers.pendingWork, { auth: w.auth });
    const shown = (await t.query(workerApi.pendingWork, { auth: w.auth })).queued.length;
    expect(shown).toBeLessThan(2 + PENDING_PROMPT_CHARS / MAX_PROMPT_CHARS);
    expect(invalidating(full, await sendWrites("behind the window"))).toEqual([]);
  });

  test("200 prompts in one session: only the next one is sent, the rest follow as it is claimed", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { sessionId } = await queuePrompt(t, w, "prompt 0");
    for (let i = 1; i < 200; i++) await t.mutation(chatApi.send, { sessionId, text: `prompt ${i}` });
    for (let i = 0; i < 3; i++) {
      const { queued } = await t.query(workerApi.pendingWork, { auth: w.auth });
      expect(queued.map((q) => q.prompt)).toEqual([`prompt ${i}`]);
      await t.mutation(workerApi.claim, { auth: w.auth, instanceId: w.instanceId, messageId: queued[0]!.messageId });
      await t.mutation(workerApi.finish, { auth: w.auth, instanceId: w.instanceId, messageId: queued[0]!.messageId, outcome: "completed" });
    }
  });

  test("200 sessions: the oldest PENDING_SESSIONS are sent in order, the next ones as those are claimed", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    for (let i = 0; i < 200; i++) await queuePrompt(t, w, `session ${i}`);
    const first = (await t.query(workerApi.pendingWork, { auth: w.auth })).queued;
    expect(first.map((q) => q.prompt)).toEqual(Array.from({ length: PENDING_SESSIONS }, (_, i) => `session ${i}`));
    for (const q of first.slice(0, 10)) await t.mutation(workerApi.claim, { auth: w.auth, instanceId: w.instanceId, messageId: q.messageId });
    const next = (await t.query(workerApi.pendingWork, { auth: w.auth })).queued;
    expect(next[0]!.prompt).toBe("session 10");
    expect(next.at(-1)!.prompt).toBe(`session ${PENDING_SESSIONS + 9}`);
  });

  test("large prompts: the answer stays within the prompt budget, and always offers the oldest", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const big = "x".repeat(90_000);
    for (let i = 0; i < 200; i++) await queuePrompt(t, w, `${i} ${big}`);
    const { queued } = await t.query(workerApi.pendingWork, { auth: w.auth });
    const chars = queued.reduce((n, q) => n + q.prompt.length, 0);
    expect(queued[0]!.prompt.startsWith("0 ")).toBe(true);
    expect(queued.length).toBeGreaterThan(1);
    expect(chars).toBeLessThanOrEqual(PENDING_PROMPT_CHARS);
    expect(JSON.stringify(queued).length).toBeLessThan(PENDING_PROMPT_CHARS + 100_000);
  });
});
