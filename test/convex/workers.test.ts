// The worker's lifecycle calls: register, self, heartbeat, go offline, models, pending
// work and session binding.
import { describe, expect, test } from "bun:test";
import { adminApi, chatApi, workerApi } from "../../src/backend/api.ts";
import { LEASE_MS } from "../../convex/lib/constants.ts";
import { addWorker, expectCode, INFO, messageRow, newBackend, onlineWorker, queuePrompt, runningPrompt } from "./setup.ts";

describe("workers:register", () => {
  test("an approved worker goes online and its report is recorded", async () => {
    const t = newBackend();
    const w = await addWorker(t, "laptop", "web");
    await t.mutation(adminApi.approve, { worker: "web" });
    const before = Date.now();
    const reg = await t.mutation(workerApi.register, { auth: w.auth, instanceId: "i1", info: { ...INFO, pid: 4242 } });
    expect(reg).toEqual({ approval: "approved", machineName: "laptop", workerName: "web", recovered: { requeued: 0, interrupted: 0 }, spentToday: { day: new Date().toISOString().slice(0, 10), cost: 0 } });
    expect(await t.query(workerApi.self, { auth: w.auth })).toEqual({
      approval: "approved",
      status: "online",
      machineName: "laptop",
      workerName: "web",
      drainRequested: false,
      holder: { instanceId: "i1", hostname: "host-a", pid: 4242 },
    });
    const [summary] = await t.query(adminApi.list, {});
    expect(summary).toMatchObject({ hostname: "host-a", version: "0.1.0", directory: "/srv/project" });
    expect(summary!.lastHeartbeatAt).toBeGreaterThanOrEqual(before);
    const row = await t.run(async (ctx) => await ctx.db.query("workers").first());
    expect(row?.instanceId).toBe("i1");
    expect(row?.pid).toBe(4242);
  });

  test("rejects an empty instance id and oversized reports", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    await expectCode(t.mutation(workerApi.register, { auth: w.auth, instanceId: "", info: INFO }), "INVALID");
    await expectCode(t.mutation(workerApi.register, { auth: w.auth, instanceId: "i", info: { ...INFO, directory: "d".repeat(5000) } }), "INVALID");
  });
});

describe("workers:heartbeat", () => {
  test("only the current instance may heartbeat; a stale duplicate gets CONFLICT", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const hb = (instanceId: string, draining = false) =>
      t.mutation(workerApi.heartbeat, { auth: w.auth, instanceId, draining, runningMessageIds: [] });
    const ok = await hb(w.instanceId);
    expect(ok.approval).toBe("approved");
    expect(ok.leaseExpiresAt).toBeGreaterThan(Date.now() + LEASE_MS - 5_000);
    await t.mutation(workerApi.register, { auth: w.auth, instanceId: "newer", info: { ...INFO, hostname: "host-b", pid: 77 } });
    // The older process learns it was taken over, and by which process (src/worker/failure.ts names it).
    expect(await expectCode(hb(w.instanceId), "CONFLICT")).toMatchObject({ takenOver: 1, hostname: "host-b", pid: 77 });
    expect((await t.query(workerApi.self, { auth: w.auth })).holder).toEqual({ instanceId: "newer", hostname: "host-b", pid: 77 });
    expect((await hb("newer")).approval).toBe("approved");
  });

  test("a worker that never registered cannot heartbeat", async () => {
    const t = newBackend();
    const w = await addWorker(t);
    await expectCode(t.mutation(workerApi.heartbeat, { auth: w.auth, instanceId: "i", draining: false, runningMessageIds: [] }), "CONFLICT");
  });

  test("reports draining and back, and extends the leases of this instance's messages", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    await t.run(async (ctx) => {
      await ctx.db.patch(ctx.db.normalizeId("messages", messageId)!, { leaseExpiresAt: Date.now() + 1_000 });
    });
    await t.mutation(workerApi.heartbeat, { auth: w.auth, instanceId: w.instanceId, draining: true, runningMessageIds: [messageId] });
    expect((await t.query(workerApi.self, { auth: w.auth })).status).toBe("draining");
    expect((await messageRow(t, messageId)).leaseExpiresAt!).toBeGreaterThan(Date.now() + LEASE_MS - 5_000);
    await t.mutation(workerApi.heartbeat, { auth: w.auth, instanceId: w.instanceId, draining: false, runningMessageIds: [] });
    expect((await t.query(workerApi.self, { auth: w.auth })).status).toBe("online");
  });
});

describe("workers:goOffline", () => {
  test("marks the worker offline and hands back what this instance still held", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    expect(await t.mutation(workerApi.goOffline, { auth: w.auth, instanceId: w.instanceId })).toBeNull();
    expect((await t.query(workerApi.self, { auth: w.auth })).status).toBe("offline");
    const row = await messageRow(t, messageId);
    expect(row.status).toBe("queued");
    expect(row.leaseInstanceId).toBeUndefined();
  });

  test("a stale instance going offline leaves the live one online", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    await t.mutation(workerApi.register, { auth: w.auth, instanceId: "newer", info: INFO });
    await t.mutation(workerApi.goOffline, { auth: w.auth, instanceId: w.instanceId });
    expect((await t.query(workerApi.self, { auth: w.auth })).status).toBe("online");
  });
});

describe("workers:publishModels", () => {
  test("replaces the worker's model list", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const m = (id: string) => ({ providerId: "stub", modelId: id, name: id.toUpperCase() });
    await t.mutation(workerApi.publishModels, { auth: w.auth, models: [m("a"), m("b")] });
    await t.mutation(workerApi.publishModels, { auth: w.auth, models: [m("c")] });
    expect((await t.query(adminApi.list, {}))[0]!.models).toEqual([m("c")]);
  });
});

describe("workers:pendingWork", () => {
  test("lists the next queued message of each session in creation order with prompt, session and attempt", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const first = await queuePrompt(t, w, "first");
    await t.mutation(chatApi.send, { sessionId: first.sessionId, text: "after first" });
    const second = await queuePrompt(t, w, "second");
    await t.mutation(workerApi.bindSession, { auth: w.auth, sessionId: first.sessionId, agentSessionId: "ses_abc" });
    const { queued, cancelRequested } = await t.query(workerApi.pendingWork, { auth: w.auth });
    expect(cancelRequested).toEqual([]);
    // "after first" may only start once "first" is done, so it is not offered yet.
    expect(queued.map((q) => q.prompt)).toEqual(["first", "second"]);
    expect(queued[0]).toMatchObject({
      messageId: first.messageId,
      sessionId: first.sessionId,
      agentSessionId: "ses_abc",
      sessionTitle: "test session",
      attempt: 0,
    });
    expect(queued[1]!.messageId).toBe(second.messageId);
    expect(queued[0]!.createdAt).toBeLessThanOrEqual(queued[1]!.createdAt);
  });

  test("drops claimed messages and lists cancel requests for running ones", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const running = await runningPrompt(t, w, "a");
    await queuePrompt(t, w, "b");
    await t.mutation(chatApi.cancel, { messageId: running.messageId });
    const work = await t.query(workerApi.pendingWork, { auth: w.auth });
    expect(work.queued.map((q) => q.prompt)).toEqual(["b"]);
    expect(work.cancelRequested).toEqual([running.messageId]);
  });

  test("an unbound session has no agent session id", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    await queuePrompt(t, w);
    expect((await t.query(workerApi.pendingWork, { auth: w.auth })).queued[0]!.agentSessionId).toBeNull();
  });
});

describe("workers:bindSession", () => {
  test("binds and rebinds the agent session of the worker's own session", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { sessionId } = await queuePrompt(t, w);
    await t.mutation(workerApi.bindSession, { auth: w.auth, sessionId, agentSessionId: "ses_1" });
    await t.mutation(workerApi.bindSession, { auth: w.auth, sessionId, agentSessionId: "ses_2" });
    expect((await t.query(workerApi.pendingWork, { auth: w.auth })).queued[0]!.agentSessionId).toBe("ses_2");
    await expectCode(t.mutation(workerApi.bindSession, { auth: w.auth, sessionId, agentSessionId: "" }), "INVALID");
    await expectCode(t.mutation(workerApi.bindSession, { auth: w.auth, sessionId: "nope", agentSessionId: "x" }), "NOT_FOUND");
  });
});
