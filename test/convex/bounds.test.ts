// Issue 9: no function reads an unbounded range in normal use, so a real deployment's
// transaction limits are never reached as queues, sessions and running answers grow.
import { describe, expect, test } from "bun:test";
import { adminApi, chatApi, workerApi } from "../../src/backend/api.ts";
import { MAX_RUNNING_PER_WORKER, MAX_SESSION_MESSAGES, OUTPUT_CHUNK_CHARS, SWEEP_BATCH } from "../../convex/lib/constants.ts";
import { message, newBackend, onlineWorker, queuePrompt, runningPrompt, type Backend } from "./setup.ts";

/** Lets the continuations a mutation scheduled finish (convex-test starts them on a 0 ms timer). */
async function settle(t: Backend) {
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 0));
    await t.finishInProgressScheduledFunctions();
  }
}

describe("bounded reads", () => {
  test("revoke settles more queued messages than one page, continuing in later transactions", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { sessionId } = await queuePrompt(t, w, "p");
    for (let i = 1; i < SWEEP_BATCH + 30; i++) await t.mutation(chatApi.send, { sessionId, text: `p${i}` });
    await t.mutation(adminApi.revoke, { worker: w.workerId });
    const queuedRightAfter = await t.run(async (ctx) =>
      (await ctx.db.query("messages").collect()).filter((m) => m.status === "queued").length,
    );
    expect(queuedRightAfter).toBe(30);
    await settle(t);
    const statuses = await t.run(async (ctx) => (await ctx.db.query("messages").collect()).filter((m) => m.role === "assistant").map((m) => m.status));
    expect(statuses).toHaveLength(SWEEP_BATCH + 30);
    expect(new Set(statuses)).toEqual(new Set(["cancelled"]));
  });

  test(`a worker runs at most ${MAX_RUNNING_PER_WORKER} answers at once; the next claim is refused until one ends`, async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const ids: string[] = [];
    for (let i = 0; i <= MAX_RUNNING_PER_WORKER; i++) ids.push((await queuePrompt(t, w, `s${i}`)).messageId);
    for (const messageId of ids.slice(0, -1)) {
      expect((await t.mutation(workerApi.claim, { auth: w.auth, instanceId: w.instanceId, messageId })).claimed).toBe(true);
    }
    const last = ids.at(-1)!;
    const refused = await t.mutation(workerApi.claim, { auth: w.auth, instanceId: w.instanceId, messageId: last });
    expect(refused).toEqual({ claimed: false, reason: `this worker already runs ${MAX_RUNNING_PER_WORKER} answers` });
    await t.mutation(workerApi.finish, { auth: w.auth, instanceId: w.instanceId, messageId: ids[0]!, outcome: "completed" });
    expect((await t.mutation(workerApi.claim, { auth: w.auth, instanceId: w.instanceId, messageId: last })).claimed).toBe(true);
  });

  test(`chat:messages returns a long session's latest ${MAX_SESSION_MESSAGES} messages in order`, async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { sessionId } = await queuePrompt(t, w, "p0");
    const prompts = MAX_SESSION_MESSAGES / 2 + 10;
    for (let i = 1; i < prompts; i++) await t.mutation(chatApi.send, { sessionId, text: `p${i}` });
    const list = await t.query(chatApi.messages, { sessionId });
    expect(list).toHaveLength(MAX_SESSION_MESSAGES);
    const userTexts = list.filter((m) => m.role === "user").map((m) => m.text);
    expect(userTexts[0]).toBe(`p${prompts - MAX_SESSION_MESSAGES / 2}`);
    expect(userTexts.at(-1)).toBe(`p${prompts - 1}`);
  });

  test("a long stream of small output batches is stored in a few chunks, text and batch count intact", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w, "stream");
    const batch = "y".repeat(999) + "\n";
    const batches = 300;
    for (let seq = 0; seq < batches; seq++) {
      await t.mutation(workerApi.appendOutput, { auth: w.auth, instanceId: w.instanceId, messageId, seq, text: batch });
    }
    // A batch larger than the room left starts a chunk of its own.
    await t.mutation(workerApi.appendOutput, { auth: w.auth, instanceId: w.instanceId, messageId, seq: batches, text: "z".repeat(OUTPUT_CHUNK_CHARS) });
    const chunks = await t.run(async (ctx) => (await ctx.db.query("outputChunks").collect()).map((c) => [c.seq, c.text.length]));
    expect(chunks).toEqual([
      [63, 64_000],
      [127, 64_000],
      [191, 64_000],
      [255, 64_000],
      [299, 44_000],
      [300, OUTPUT_CHUNK_CHARS],
    ]);
    const view = await message(t, messageId);
    expect(view.text).toBe(batch.repeat(batches) + "z".repeat(OUTPUT_CHUNK_CHARS));
    expect(view.outputBatches).toBe(batches + 1);
    // A retried batch is still recognised and not stored twice.
    expect(await t.mutation(workerApi.appendOutput, { auth: w.auth, instanceId: w.instanceId, messageId, seq: 5, text: batch })).toEqual({
      nextSeq: batches + 1,
    });
    expect((await message(t, messageId)).text.length).toBe(view.text.length);
  });
});
