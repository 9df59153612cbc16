// Issue 9 retention: admin:deleteExpired (run hourly by the deployed cron) deletes sessions idle
// past the retention period with their messages and output, and workers revoked that long
// ago, in bounded pages; and nothing else.
import { describe, expect, test } from "bun:test";
import { adminApi, chatApi, workerApi } from "../../src/backend/api.ts";
import { RETENTION_DAYS_DEFAULT } from "../../convex/lib/constants.ts";
import { addWorker, expectCode, newBackend, onlineWorker, queuePrompt, runningPrompt, type Backend, type TestWorker } from "./setup.ts";

const DAY = 24 * 60 * 60_000;
const daysAgo = (n: number) => Date.now() - n * DAY;

/** A session with one answered prompt whose answer came in `batches` output batches of `size` characters. */
async function answered(t: Backend, w: TestWorker, batches = 2, size = 0) {
  const { sessionId, messageId } = await runningPrompt(t, w, "question");
  for (let seq = 0; seq < batches; seq++) {
    const text = `part ${seq}`.padEnd(size, ".");
    await t.mutation(workerApi.appendOutput, { auth: w.auth, instanceId: w.instanceId, messageId, seq, text });
  }
  await t.mutation(workerApi.finish, { auth: w.auth, instanceId: w.instanceId, messageId, outcome: "completed" });
  return { sessionId, messageId };
}

async function age(t: Backend, sessionId: string, days: number | undefined) {
  await t.run(async (ctx) => {
    const id = ctx.db.normalizeId("sessions", sessionId)!;
    await ctx.db.patch(id, { lastActivityAt: days === undefined ? undefined : daysAgo(days) });
  });
}

async function revokedDaysAgo(t: Backend, w: TestWorker, days: number) {
  await t.mutation(adminApi.revoke, { worker: w.workerId });
  await t.run(async (ctx) => {
    const row = (await ctx.db.query("workers").withIndex("by_workerId", (q) => q.eq("workerId", w.workerId)).unique())!;
    await ctx.db.patch(row._id, { revokedAt: daysAgo(days) });
  });
}

const counts = (t: Backend) =>
  t.run(async (ctx) => {
    const n = async (table: "sessions" | "messages" | "outputChunks" | "workers" | "machines" | "liveness") =>
      (await ctx.db.query(table).collect()).length;
    return {
      sessions: await n("sessions"),
      messages: await n("messages"),
      outputChunks: await n("outputChunks"),
      workers: await n("workers"),
      machines: await n("machines"),
      liveness: await n("liveness"),
    };
  });

const exists = (t: Backend, table: "sessions" | "messages", id: string) =>
  t.run(async (ctx) => {
    const normalized = ctx.db.normalizeId(table, id);
    return normalized !== null && (await ctx.db.get(normalized)) !== null;
  });

/** Lets the continuations a run scheduled finish (convex-test starts them on a 0 ms timer). */
async function settle(t: Backend) {
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 0));
    await t.finishInProgressScheduledFunctions();
  }
}

describe("admin:deleteExpired", () => {
  test("deletes idle sessions and long-revoked workers with everything of theirs, and nothing else", async () => {
    const t = newBackend();
    const w = await onlineWorker(t, "laptop", "api");
    // 40k-character batches are stored one per chunk (OUTPUT_CHUNK_CHARS is 64k).
    const old = await answered(t, w, 3, 40_000);
    const recent = await answered(t, w, 2);
    const waiting = await queuePrompt(t, w, "still waiting");
    await age(t, old.sessionId, RETENTION_DAYS_DEFAULT + 1);
    await age(t, recent.sessionId, RETENTION_DAYS_DEFAULT - 1);
    await age(t, waiting.sessionId, RETENTION_DAYS_DEFAULT + 5);

    const gone = await onlineWorker(t, "old-box", "gone");
    await answered(t, gone, 1);
    await revokedDaysAgo(t, gone, RETENTION_DAYS_DEFAULT + 1);
    const lately = await onlineWorker(t, "laptop", "lately");
    const latelySession = await answered(t, lately, 1);
    await revokedDaysAgo(t, lately, 1);

    const before = await counts(t);
    const result = await t.mutation(adminApi.deleteExpired, {});
    expect(result).toEqual({ sessions: 2, messages: 4, outputChunks: 4, turnParts: 0, requests: 0, workers: 1, more: false });
    expect(await counts(t)).toEqual({
      sessions: before.sessions - 2,
      messages: before.messages - 4,
      outputChunks: before.outputChunks - 4,
      workers: before.workers - 1,
      machines: before.machines - 1,
      liveness: before.liveness - 1,
    });
    expect(await exists(t, "sessions", old.sessionId)).toBe(false);
    expect(await exists(t, "messages", old.messageId)).toBe(false);
    for (const kept of [recent, waiting, latelySession]) {
      expect(await exists(t, "sessions", kept.sessionId)).toBe(true);
      expect(await exists(t, "messages", kept.messageId)).toBe(true);
    }
    expect((await t.query(chatApi.message, { messageId: recent.messageId }))!.text).toBe("part 0part 1");
    // The waiting prompt is still served to its worker.
    expect((await t.query(workerApi.pendingWork, { auth: w.auth })).queued.map((q) => q.messageId)).toEqual([waiting.messageId]);
    expect((await t.query(adminApi.list, {})).map((x) => x.name).sort()).toEqual(["api", "lately"]);
  });

  test("sessions stored before lastActivityAt existed are judged by their newest message", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const stale = await answered(t, w, 1);
    const fresh = await answered(t, w, 1);
    for (const s of [stale, fresh]) await age(t, s.sessionId, undefined);
    await t.run(async (ctx) => {
      for (const m of await ctx.db.query("messages").collect()) {
        if (m.sessionId !== ctx.db.normalizeId("sessions", stale.sessionId)) continue;
        await ctx.db.patch(m._id, { createdAt: daysAgo(40), finishedAt: daysAgo(40) });
      }
      const s = await ctx.db.get(ctx.db.normalizeId("sessions", stale.sessionId)!);
      await ctx.db.patch(s!._id, { createdAt: daysAgo(40) });
    });
    expect((await t.mutation(adminApi.deleteExpired, {})).sessions).toBe(1);
    expect(await exists(t, "sessions", stale.sessionId)).toBe(false);
    expect(await exists(t, "sessions", fresh.sessionId)).toBe(true);
  });

  test("the period is a deployment setting: longer, or keep everything", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const s = await answered(t, w, 1);
    await age(t, s.sessionId, 45);
    expect(await t.query(adminApi.retention, {})).toEqual({ days: RETENTION_DAYS_DEFAULT, defaultDays: RETENTION_DAYS_DEFAULT });
    await t.mutation(adminApi.setRetention, { days: null });
    expect((await t.mutation(adminApi.deleteExpired, {})).sessions).toBe(0);
    await t.mutation(adminApi.setRetention, { days: 60 });
    expect((await t.mutation(adminApi.deleteExpired, {})).sessions).toBe(0);
    expect(await exists(t, "sessions", s.sessionId)).toBe(true);
    await t.mutation(adminApi.setRetention, { days: 40 });
    expect((await t.mutation(adminApi.deleteExpired, {})).sessions).toBe(1);
    expect(await t.query(adminApi.retention, {})).toEqual({ days: 40, defaultDays: RETENTION_DAYS_DEFAULT });
    for (const days of [0, -1, 1.5, 100_000]) await expectCode(t.mutation(adminApi.setRetention, { days }), "INVALID");
  });

  test("works in bounded pages and continues on its own until done", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const sessions = [];
    for (let i = 0; i < 3; i++) sessions.push(await answered(t, w, 6, 40_000));
    for (const s of sessions) await age(t, s.sessionId, 31);
    const first = await t.mutation(adminApi.deleteExpired, { maxDocs: 5 });
    expect(first.more).toBe(true);
    expect(first.sessions + first.messages + first.outputChunks).toBe(5);
    await settle(t);
    const left = await counts(t);
    expect([left.sessions, left.messages, left.outputChunks]).toEqual([0, 0, 0]);
    expect(left.workers).toBe(1);
  });

  test("an old prompt still waiting for its answer (here for approval) is kept", async () => {
    const t = newBackend();
    const w = await addWorker(t);
    const s = await queuePrompt(t, w, "waits for approval");
    await age(t, s.sessionId, 90);
    expect(await t.mutation(adminApi.deleteExpired, {})).toEqual({ sessions: 0, messages: 0, outputChunks: 0, turnParts: 0, requests: 0, workers: 0, more: false });
  });
});
