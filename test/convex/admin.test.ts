// Person-side administration: adding workers (token issued once, only its hash stored),
// approval, revocation, listing.
import { describe, expect, test } from "bun:test";
import { adminApi, workerApi } from "../../src/backend/api.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { sha256Hex } from "../../convex/lib/sha256.ts";
import { addWorker, expectCode, INFO, newBackend, onlineWorker, queuePrompt, runningPrompt, message } from "./setup.ts";

const TOKEN_SHAPE = /^machine_[A-Za-z0-9_-]+:worker_[A-Za-z0-9_-]+:secret_[A-Za-z0-9_-]+$/;

describe("admin:addWorker", () => {
  test("returns a well-formed token whose parts name the new worker", async () => {
    const t = newBackend();
    const result = await t.action(adminApi.addWorker, { machineName: "laptop" });
    expect(result.token).toMatch(TOKEN_SHAPE);
    const token = WorkerToken.parse(result.token)!;
    expect(token).not.toBeNull();
    expect(token.machineId).toBe(result.machineId);
    expect(token.workerId).toBe(result.workerId);
    expect(token.revealSecret().length).toBeGreaterThanOrEqual(22);
    expect(result.machineName).toBe("laptop");
    expect(result.name).toBe("laptop-1");
  });

  test("stores the SHA-256 hash of the secret, never the secret", async () => {
    const t = newBackend();
    const w = await addWorker(t);
    const rows = await t.run(async (ctx) => await ctx.db.query("workers").collect());
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secretHash).toBe(await sha256Hex(w.auth.secret));
    const everything = JSON.stringify(
      await t.run(async (ctx) => ({
        workers: await ctx.db.query("workers").collect(),
        machines: await ctx.db.query("machines").collect(),
      })),
    );
    expect(everything).not.toContain(w.auth.secret);
  });

  test("each token is different and starts pending and offline", async () => {
    const t = newBackend();
    const a = await addWorker(t);
    const b = await addWorker(t);
    expect(a.auth.secret).not.toBe(b.auth.secret);
    expect(a.workerId).not.toBe(b.workerId);
    const self = await t.query(workerApi.self, { auth: a.auth });
    expect(self).toEqual({ approval: "pending", status: "offline", machineName: "laptop", workerName: "laptop-1", drainRequested: false, holder: null });
  });

  test("reuses a machine by name and numbers default worker names uniquely per deployment", async () => {
    const t = newBackend();
    const a = await addWorker(t, "Build Box");
    const b = await addWorker(t, "Build Box");
    const c = await addWorker(t, "other");
    expect(a.machineId).toBe(b.machineId);
    expect(c.machineId).not.toBe(a.machineId);
    expect([a.name, b.name, c.name]).toEqual(["build-box-1", "build-box-2", "other-1"]);
    // A name already used elsewhere is skipped, not duplicated.
    await addWorker(t, "x", "other-2");
    expect((await addWorker(t, "other")).name).toBe("other-3");
  });

  test("takes an explicit name, refusing duplicates and names unfit for a command line", async () => {
    const t = newBackend();
    expect((await addWorker(t, "laptop", "web")).name).toBe("web");
    await expectCode(t.action(adminApi.addWorker, { machineName: "server", workerName: "web" }), "CONFLICT");
    await expectCode(t.action(adminApi.addWorker, { machineName: "laptop", workerName: "has space" }), "INVALID");
    await expectCode(t.action(adminApi.addWorker, { machineName: "laptop", workerName: "" }), "INVALID");
    await expectCode(t.action(adminApi.addWorker, { machineName: "   " }), "INVALID");
    await expectCode(t.action(adminApi.addWorker, { machineName: "x".repeat(65) }), "INVALID");
    expect(await t.query(adminApi.list, {})).toHaveLength(1);
  });
});

describe("admin:approve / admin:revoke", () => {
  test("approve by name or id; idempotent; sets approvedAt", async () => {
    const t = newBackend();
    const w = await addWorker(t, "laptop", "alpha");
    const first = await t.mutation(adminApi.approve, { worker: "alpha" });
    expect(first.approval).toBe("approved");
    expect(first.approvedAt).toBeNumber();
    const again = await t.mutation(adminApi.approve, { worker: w.workerId });
    expect(again.approvedAt).toBe(first.approvedAt!);
    expect((await t.query(workerApi.self, { auth: w.auth })).approval).toBe("approved");
  });

  test("unknown worker is NOT_FOUND; a name equal to another worker's id is ambiguous", async () => {
    const t = newBackend();
    await expectCode(t.mutation(adminApi.approve, { worker: "nobody" }), "NOT_FOUND");
    const a = await addWorker(t, "laptop");
    // Names equal to existing ids are refused up front…
    await expectCode(t.action(adminApi.addWorker, { machineName: "laptop", workerName: a.workerId }), "CONFLICT");
    // …but an id drawn later could still equal an existing name; approve must then refuse to guess.
    const b = await addWorker(t, "laptop", "clash");
    await t.run(async (ctx) => {
      const row = (await ctx.db.query("workers").withIndex("by_workerId", (q) => q.eq("workerId", a.workerId)).unique())!;
      await ctx.db.patch(row._id, { workerId: "clash" });
    });
    const data = await expectCode(t.mutation(adminApi.approve, { worker: "clash" }), "INVALID");
    expect(String(data.message)).toContain(b.workerId);
  });

  test("revoke is final: the worker is told so and cannot be approved again", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const summary = await t.mutation(adminApi.revoke, { worker: w.name });
    expect(summary.approval).toBe("revoked");
    expect(summary.status).toBe("offline");
    expect((await t.mutation(adminApi.revoke, { worker: w.name })).approval).toBe("revoked");
    await expectCode(t.mutation(adminApi.approve, { worker: w.name }), "CONFLICT");
    expect((await t.query(workerApi.self, { auth: w.auth })).approval).toBe("revoked");
    await expectCode(t.mutation(workerApi.register, { auth: w.auth, instanceId: "again", info: INFO }), "WORKER_REVOKED");
  });

  test("revoking mid-run settles the worker's messages and stops its output", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const running = await runningPrompt(t, w, "long job");
    await t.mutation(workerApi.appendOutput, { auth: w.auth, instanceId: w.instanceId, messageId: running.messageId, seq: 0, text: "partial" });
    const queued = await queuePrompt(t, w, "next job");
    await t.mutation(adminApi.revoke, { worker: w.workerId });

    const r = await message(t, running.messageId);
    expect(r.status).toBe("interrupted");
    expect(r.reason).toContain("revoked");
    expect(r.text).toBe("partial");
    expect((await message(t, queued.messageId)).status).toBe("cancelled");

    const args = { auth: w.auth, instanceId: w.instanceId, messageId: running.messageId };
    await expectCode(t.mutation(workerApi.appendOutput, { ...args, seq: 1, text: "more" }), "WORKER_REVOKED");
    await expectCode(t.mutation(workerApi.finish, { ...args, outcome: "completed" }), "WORKER_REVOKED");
    await expectCode(t.mutation(workerApi.heartbeat, { auth: w.auth, instanceId: w.instanceId, draining: false, runningMessageIds: [] }), "WORKER_REVOKED");
    expect((await message(t, running.messageId)).text).toBe("partial");
  });
});

describe("admin:list", () => {
  test("lists machines and workers with state, sorted, and never a secret or hash", async () => {
    const t = newBackend();
    const z = await onlineWorker(t, "zeta", "z1");
    const a = await addWorker(t, "alpha", "a1");
    await t.mutation(workerApi.publishModels, { auth: z.auth, models: [{ providerId: "stub", modelId: "m", name: "Model" }] });
    const list = await t.query(adminApi.list, {});
    expect(list.map((w) => w.name)).toEqual(["a1", "z1"]);
    const [first, second] = list;
    expect(first).toMatchObject({ machineName: "alpha", approval: "pending", status: "offline", lastHeartbeatAt: null, hostname: null, approvedAt: null });
    expect(second).toMatchObject({ machineName: "zeta", approval: "approved", status: "online", hostname: INFO.hostname, directory: INFO.directory });
    expect(second!.lastHeartbeatAt).toBeNumber();
    expect(second!.models).toEqual([{ providerId: "stub", modelId: "m", name: "Model" }]);
    const text = JSON.stringify(list);
    for (const w of [z, a]) {
      expect(text).not.toContain(w.auth.secret);
      expect(text).not.toContain(await sha256Hex(w.auth.secret));
    }
    expect(text).not.toContain("secretHash");
  });
});

describe("admin:setPaused", () => {
  test("pausing shows in the worker's own view and in the list; resuming clears it; repeats are harmless", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const paused = await t.mutation(adminApi.setPaused, { worker: w.name, paused: true });
    expect(paused.paused).toBe(true);
    expect((await t.query(workerApi.self, { auth: w.auth })).drainRequested).toBe(true);
    await t.mutation(adminApi.setPaused, { worker: w.workerId, paused: true });
    expect((await t.query(adminApi.list, {})).find((x) => x.workerId === w.workerId)!.paused).toBe(true);
    const resumed = await t.mutation(adminApi.setPaused, { worker: w.name, paused: false });
    expect(resumed.paused).toBe(false);
    expect((await t.query(workerApi.self, { auth: w.auth })).drainRequested).toBe(false);
  });

  test("a revoked or unknown worker cannot be paused", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    await t.mutation(adminApi.revoke, { worker: w.name });
    await expectCode(t.mutation(adminApi.setPaused, { worker: w.name, paused: true }), "CONFLICT");
    await expectCode(t.mutation(adminApi.setPaused, { worker: "nobody", paused: true }), "NOT_FOUND");
  });
});
