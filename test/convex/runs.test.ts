// Running a message: claim (exactly one winner), output batches (idempotent, ordered) and
// finish (final is final).
import { describe, expect, test } from "bun:test";
import { workerApi } from "../../src/backend/api.ts";
import { LEASE_MS } from "../../convex/lib/constants.ts";
import { expectCode, INFO, message, messageRow, newBackend, onlineWorker, queuePrompt, runningPrompt, type Backend, type TestWorker } from "./setup.ts";

function runner(t: Backend, w: TestWorker, messageId: string, instanceId = w.instanceId) {
  const base = { auth: w.auth, instanceId, messageId };
  return {
    claim: () => t.mutation(workerApi.claim, base),
    append: (seq: number, text: string) => t.mutation(workerApi.appendOutput, { ...base, seq, text }),
    finish: (outcome: "completed" | "failed" | "cancelled" | "interrupted", reason?: string) =>
      t.mutation(workerApi.finish, { ...base, outcome, ...(reason === undefined ? {} : { reason }) }),
  };
}

describe("workers:claim", () => {
  test("turns a queued message into a running one with a lease and a first attempt", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await queuePrompt(t, w);
    const before = Date.now();
    const result = await runner(t, w, messageId).claim();
    expect(result.claimed).toBe(true);
    if (!result.claimed) return;
    expect(result.leaseExpiresAt).toBeGreaterThanOrEqual(before + LEASE_MS);
    const row = await messageRow(t, messageId);
    expect(row).toMatchObject({ status: "running", leaseInstanceId: w.instanceId, leaseExpiresAt: result.leaseExpiresAt, attempts: 1 });
    expect((await message(t, messageId)).status).toBe("running");
  });

  test("a second claim loses, even from the same instance", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await queuePrompt(t, w);
    expect((await runner(t, w, messageId).claim()).claimed).toBe(true);
    const again = await runner(t, w, messageId).claim();
    expect(again).toEqual({ claimed: false, reason: "the message is running" });
    expect((await messageRow(t, messageId)).attempts).toBe(1);
  });

  test("concurrent claims: exactly one wins", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await queuePrompt(t, w);
    const results = await Promise.all(Array.from({ length: 8 }, () => runner(t, w, messageId).claim()));
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
    expect(results.filter((r) => !r.claimed)).toHaveLength(7);
    expect((await messageRow(t, messageId)).attempts).toBe(1);
  });

  test("concurrent claims from two processes of one worker: the stale one is refused", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await queuePrompt(t, w);
    await t.mutation(workerApi.register, { auth: w.auth, instanceId: "second", info: INFO });
    const [stale, live] = await Promise.allSettled([runner(t, w, messageId).claim(), runner(t, w, messageId, "second").claim()]);
    expect(stale.status).toBe("rejected");
    expect(live.status === "fulfilled" && live.value.claimed).toBe(true);
    expect((await messageRow(t, messageId)).leaseInstanceId).toBe("second");
  });

  test("a finished or cancelled message cannot be claimed", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    await runner(t, w, messageId).finish("completed");
    expect(await runner(t, w, messageId).claim()).toEqual({ claimed: false, reason: "the message is completed" });
  });
});

describe("workers:appendOutput", () => {
  test("stores batches in order and repeats are not stored twice", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    const r = runner(t, w, messageId);
    expect(await r.append(0, "Hel")).toEqual({ nextSeq: 1 });
    expect(await r.append(0, "Hel")).toEqual({ nextSeq: 1 });
    expect(await r.append(1, "lo, ")).toEqual({ nextSeq: 2 });
    expect(await r.append(0, "Hel")).toEqual({ nextSeq: 2 });
    expect(await r.append(2, "world")).toEqual({ nextSeq: 3 });
    expect(await r.append(1, "lo, ")).toEqual({ nextSeq: 3 });
    const view = await message(t, messageId);
    expect(view.text).toBe("Hello, world");
    expect(view.outputBatches).toBe(3);
  });

  test("a gap is refused with the expected position, and nothing is stored", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    const r = runner(t, w, messageId);
    await r.append(0, "a");
    const data = await expectCode(r.append(2, "c"), "CONFLICT");
    expect(data.nextSeq).toBe(1);
    await expectCode(r.append(-1, "x"), "INVALID");
    await expectCode(r.append(1.5, "x"), "INVALID");
    expect((await message(t, messageId)).text).toBe("a");
  });

  test("empty batches are allowed; oversized ones are refused", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    const r = runner(t, w, messageId);
    expect(await r.append(0, "")).toEqual({ nextSeq: 1 });
    await expectCode(r.append(1, "x".repeat(300_000)), "INVALID");
  });

  test("only the lease holder may append: not a queued message, not another instance", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const queued = await queuePrompt(t, w);
    await expectCode(runner(t, w, queued.messageId).append(0, "x"), "CONFLICT");
    const running = await runningPrompt(t, w);
    await expectCode(runner(t, w, running.messageId, "someone-else").append(0, "x"), "CONFLICT");
    expect((await message(t, running.messageId)).outputBatches).toBe(0);
  });

  test("output extends the lease", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    await t.run(async (ctx) => {
      await ctx.db.patch(ctx.db.normalizeId("messages", messageId)!, { leaseExpiresAt: Date.now() + 10 });
    });
    await runner(t, w, messageId).append(0, "x");
    expect((await messageRow(t, messageId)).leaseExpiresAt!).toBeGreaterThan(Date.now() + LEASE_MS - 5_000);
  });

  test("appending after finish is refused", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    const r = runner(t, w, messageId);
    await r.append(0, "done");
    await r.finish("completed");
    await expectCode(r.append(1, "late"), "CONFLICT");
    expect((await message(t, messageId)).text).toBe("done");
  });
});

describe("workers:finish", () => {
  test("completed, with finishedAt; repeating it is harmless", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    const r = runner(t, w, messageId);
    expect(await r.finish("completed")).toEqual({ status: "completed" });
    expect(await r.finish("completed")).toEqual({ status: "completed" });
    const view = await message(t, messageId);
    expect(view.status).toBe("completed");
    expect(view.finishedAt).toBeNumber();
    expect(view.reason).toBeNull();
    expect((await messageRow(t, messageId)).leaseInstanceId).toBeUndefined();
  });

  test("failed and interrupted need a reason, which is kept", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    for (const outcome of ["failed", "interrupted"] as const) {
      const { messageId } = await runningPrompt(t, w);
      const r = runner(t, w, messageId);
      await expectCode(r.finish(outcome), "INVALID");
      await expectCode(r.finish(outcome, "   "), "INVALID");
      expect((await message(t, messageId)).status).toBe("running");
      expect(await r.finish(outcome, " model crashed ")).toEqual({ status: outcome });
      expect((await message(t, messageId)).reason).toBe("model crashed");
    }
  });

  test("a final message is never changed by a different outcome", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    const r = runner(t, w, messageId);
    await r.finish("cancelled");
    expect(await r.finish("completed")).toEqual({ status: "cancelled" });
    expect(await r.finish("failed", "boom")).toEqual({ status: "cancelled" });
    const view = await message(t, messageId);
    expect(view.status).toBe("cancelled");
    expect(view.reason).toBeNull();
  });

  test("only the lease holder may finish; a queued message cannot be finished", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const queued = await queuePrompt(t, w);
    await expectCode(runner(t, w, queued.messageId).finish("completed"), "CONFLICT");
    expect((await message(t, queued.messageId)).status).toBe("queued");
    const running = await runningPrompt(t, w);
    await expectCode(runner(t, w, running.messageId, "other-instance").finish("completed"), "CONFLICT");
    expect((await message(t, running.messageId)).status).toBe("running");
  });
});
