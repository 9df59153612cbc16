// Nothing is lost: a message whose worker vanished mid-answer is requeued (bounded attempts)
// or interrupted with a reason, when its lease runs out or when the worker registers again.
import { describe, expect, test } from "bun:test";
import { adminApi, chatApi, workerApi } from "../../src/backend/api.ts";
import { MAX_ATTEMPTS, OFFLINE_AFTER_MS } from "../../convex/lib/constants.ts";
import { expectCode, expireLease, INFO, message, messageRow, newBackend, onlineWorker, runningPrompt, type Backend, type TestWorker } from "./setup.ts";

const register = (t: Backend, w: TestWorker, instanceId: string) => t.mutation(workerApi.register, { auth: w.auth, instanceId, info: INFO });
const claim = (t: Backend, w: TestWorker, messageId: string, instanceId = w.instanceId) =>
  t.mutation(workerApi.claim, { auth: w.auth, instanceId, messageId });

describe("re-registering", () => {
  test("with a new instance id requeues a message that produced no output", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    const reg = await register(t, w, "restarted");
    expect(reg.recovered).toEqual({ requeued: 1, interrupted: 0 });
    const row = await messageRow(t, messageId);
    expect(row).toMatchObject({ status: "queued", attempts: 1 });
    expect(row.leaseInstanceId).toBeUndefined();
    const work = await t.query(workerApi.pendingWork, { auth: w.auth });
    expect(work.queued.map((q) => [q.messageId, q.attempt])).toEqual([[messageId, 1]]);
    // The old process can no longer write into it; the new one can pick it up.
    await expectCode(t.mutation(workerApi.appendOutput, { auth: w.auth, instanceId: w.instanceId, messageId, seq: 0, text: "x" }), "CONFLICT");
    expect((await claim(t, w, messageId, "restarted")).claimed).toBe(true);
    expect((await messageRow(t, messageId)).attempts).toBe(2);
  });

  test("with a new instance id interrupts a message that already has output", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    await t.mutation(workerApi.appendOutput, { auth: w.auth, instanceId: w.instanceId, messageId, seq: 0, text: "half an answ" });
    const reg = await register(t, w, "restarted");
    expect(reg.recovered).toEqual({ requeued: 0, interrupted: 1 });
    const view = await message(t, messageId);
    expect(view.status).toBe("interrupted");
    expect(view.reason).toContain("worker restarted while answering");
    expect(view.text).toBe("half an answ");
    expect(view.finishedAt).toBeNumber();
  });

  test("with the same instance id (a reconnect) leaves running messages alone", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    const reg = await register(t, w, w.instanceId);
    expect(reg.recovered).toEqual({ requeued: 0, interrupted: 0 });
    expect(await messageRow(t, messageId)).toMatchObject({ status: "running", leaseInstanceId: w.instanceId });
    expect(await t.mutation(workerApi.appendOutput, { auth: w.auth, instanceId: w.instanceId, messageId, seq: 0, text: "ok" })).toEqual({ nextSeq: 1 });
  });

  test(`gives up after ${MAX_ATTEMPTS} attempts`, async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    let instance = w.instanceId;
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      instance = `restart-${attempt}`;
      expect((await register(t, w, instance)).recovered).toEqual({ requeued: 1, interrupted: 0 });
      expect((await claim(t, w, messageId, instance)).claimed).toBe(true);
    }
    expect((await messageRow(t, messageId)).attempts).toBe(MAX_ATTEMPTS);
    expect((await register(t, w, "final-restart")).recovered).toEqual({ requeued: 0, interrupted: 1 });
    const view = await message(t, messageId);
    expect(view.status).toBe("interrupted");
    expect(view.reason).toContain(`${MAX_ATTEMPTS} attempts`);
  });

  test("a cancel requested while the worker was gone ends as cancelled, not requeued", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    await t.mutation(chatApi.cancel, { messageId });
    expect((await register(t, w, "restarted")).recovered).toEqual({ requeued: 0, interrupted: 1 });
    expect((await message(t, messageId)).status).toBe("cancelled");
  });

  test("only this worker's messages are recovered", async () => {
    const t = newBackend();
    const a = await onlineWorker(t, "m1");
    const b = await onlineWorker(t, "m2");
    const mine = await runningPrompt(t, a);
    const theirs = await runningPrompt(t, b);
    await register(t, a, "restarted");
    expect((await messageRow(t, mine.messageId)).status).toBe("queued");
    expect((await messageRow(t, theirs.messageId)).status).toBe("running");
  });
});

describe("admin:sweep", () => {
  test("leaves live leases alone", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    expect(await t.mutation(adminApi.sweep, {})).toEqual({ requeued: 0, interrupted: 0, offline: 0 });
    expect((await messageRow(t, messageId)).status).toBe("running");
  });

  test("requeues an expired message without output and interrupts one with output", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const silent = await runningPrompt(t, w, "silent");
    const talky = await runningPrompt(t, w, "talky");
    await t.mutation(workerApi.appendOutput, { auth: w.auth, instanceId: w.instanceId, messageId: talky.messageId, seq: 0, text: "some" });
    await expireLease(t, silent.messageId);
    await expireLease(t, talky.messageId);
    expect(await t.mutation(adminApi.sweep, {})).toEqual({ requeued: 1, interrupted: 1, offline: 0 });
    expect((await messageRow(t, silent.messageId)).status).toBe("queued");
    const view = await message(t, talky.messageId);
    expect(view.status).toBe("interrupted");
    expect(view.reason).toContain("stopped responding");
    // The holder is told it lost the message the next time it tries to write.
    await expectCode(
      t.mutation(workerApi.finish, { auth: w.auth, instanceId: w.instanceId, messageId: silent.messageId, outcome: "completed" }),
      "CONFLICT",
    );
    expect(await t.mutation(adminApi.sweep, {})).toEqual({ requeued: 0, interrupted: 0, offline: 0 });
  });

  test("an expired message at its last attempt is interrupted", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    await t.run(async (ctx) => {
      await ctx.db.patch(ctx.db.normalizeId("messages", messageId)!, { attempts: MAX_ATTEMPTS });
    });
    await expireLease(t, messageId);
    expect(await t.mutation(adminApi.sweep, {})).toMatchObject({ requeued: 0, interrupted: 1 });
    expect((await message(t, messageId)).status).toBe("interrupted");
  });

  test("a heartbeat keeps an old lease alive through the sweep", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    await expireLease(t, messageId);
    await t.mutation(workerApi.heartbeat, { auth: w.auth, instanceId: w.instanceId, draining: false, runningMessageIds: [messageId] });
    await t.mutation(adminApi.sweep, {});
    expect((await messageRow(t, messageId)).status).toBe("running");
  });

  test("marks silent online and draining workers offline, not fresh ones", async () => {
    const t = newBackend();
    const quiet = await onlineWorker(t, "m", "quiet");
    const draining = await onlineWorker(t, "m", "drainer");
    const fresh = await onlineWorker(t, "m", "fresh");
    await t.mutation(workerApi.heartbeat, { auth: draining.auth, instanceId: draining.instanceId, draining: true, runningMessageIds: [] });
    await t.run(async (ctx) => {
      for (const name of ["quiet", "drainer"]) {
        const worker = (await ctx.db.query("workers").withIndex("by_name", (q) => q.eq("name", name)).unique())!;
        const row = (await ctx.db.query("liveness").withIndex("by_workerId", (q) => q.eq("workerId", worker.workerId)).unique())!;
        await ctx.db.patch(row._id, { lastHeartbeatAt: Date.now() - OFFLINE_AFTER_MS - 1_000 });
      }
    });
    expect(await t.mutation(adminApi.sweep, {})).toEqual({ requeued: 0, interrupted: 0, offline: 2 });
    const status = async (w: TestWorker) => (await t.query(workerApi.self, { auth: w.auth })).status;
    expect([await status(quiet), await status(draining), await status(fresh)]).toEqual(["offline", "offline", "online"]);
    // A heartbeat brings a worker that was only slow back online.
    await t.mutation(workerApi.heartbeat, { auth: quiet.auth, instanceId: quiet.instanceId, draining: false, runningMessageIds: [] });
    expect(await status(quiet)).toBe("online");
  });
});
