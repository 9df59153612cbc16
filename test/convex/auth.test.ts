// Every public (worker-facing) function checks the token: an unknown worker and a wrong
// secret are indistinguishable, a revoked worker is told so, a pending one gets no work.
import { describe, expect, test } from "bun:test";
import { adminApi, workerApi, type WorkerAuth } from "../../src/backend/api.ts";
import { addWorker, expectCode, INFO, newBackend, onlineWorker, queuePrompt, type Backend } from "./setup.ts";

/** One call of each public function, made with the given credentials. */
function everyPublicCall(t: Backend, auth: WorkerAuth, ids: { messageId: string; sessionId: string }) {
  const instanceId = "instance-x";
  return {
    register: () => t.mutation(workerApi.register, { auth, instanceId, info: INFO }),
    self: () => t.query(workerApi.self, { auth }),
    heartbeat: () => t.mutation(workerApi.heartbeat, { auth, instanceId, draining: false, runningMessageIds: [] }),
    goOffline: () => t.mutation(workerApi.goOffline, { auth, instanceId }),
    publishModels: () => t.mutation(workerApi.publishModels, { auth, models: [] }),
    pendingWork: () => t.query(workerApi.pendingWork, { auth }),
    claim: () => t.mutation(workerApi.claim, { auth, instanceId, messageId: ids.messageId }),
    appendOutput: () => t.mutation(workerApi.appendOutput, { auth, instanceId, messageId: ids.messageId, seq: 0, text: "x" }),
    finish: () => t.mutation(workerApi.finish, { auth, instanceId, messageId: ids.messageId, outcome: "completed" }),
    bindSession: () => t.mutation(workerApi.bindSession, { auth, sessionId: ids.sessionId, agentSessionId: "ses_1" }),
  };
}

async function setup() {
  const t = newBackend();
  const w = await onlineWorker(t);
  const ids = await queuePrompt(t, w);
  return { t, w, ids };
}

describe("unauthenticated callers", () => {
  const variants: [string, (a: WorkerAuth, other: WorkerAuth) => WorkerAuth][] = [
    ["wrong secret", (a) => ({ ...a, secret: a.secret.slice(0, -1) + (a.secret.endsWith("A") ? "B" : "A") })],
    ["unknown worker", (a) => ({ ...a, workerId: "doesnotexist" })],
    ["unknown machine", (a) => ({ ...a, machineId: "doesnotexist" })],
    ["another worker's secret", (a, other) => ({ ...a, secret: other.secret })],
    ["worker id under another machine", (a, other) => ({ ...a, machineId: other.machineId })],
    ["malformed parts", (a) => ({ ...a, workerId: "a:b" })],
    ["empty secret", (a) => ({ ...a, secret: "" })],
  ];

  for (const [label, forge] of variants) {
    test(`${label}: every function answers UNAUTHORIZED with the same message`, async () => {
      const { t, w, ids } = await setup();
      const other = await addWorker(t, "elsewhere");
      const calls = everyPublicCall(t, forge(w.auth, other.auth), ids);
      // Seeded with the answer to a plain wrong secret: every variant must be indistinguishable from it.
      const wrongSecret = await expectCode(t.query(workerApi.self, { auth: { ...w.auth, secret: "wrong-secret" } }), "UNAUTHORIZED");
      const messages = new Set<unknown>([wrongSecret.message]);
      for (const [name, call] of Object.entries(calls)) {
        const data = await expectCode(call(), "UNAUTHORIZED").catch((e) => {
          throw new Error(`${name}: ${e}`);
        });
        messages.add(data.message);
      }
      // One answer for all: nothing tells a prober whether the worker exists.
      expect(messages.size).toBe(1);
      // And nothing happened: the message is still queued, the worker still on its own instance.
      expect((await t.query(workerApi.pendingWork, { auth: w.auth })).queued).toHaveLength(1);
    });
  }
});

describe("revoked worker", () => {
  test("every function but self answers WORKER_REVOKED; self reports the revocation", async () => {
    const { t, w, ids } = await setup();
    await t.mutation(adminApi.revoke, { worker: w.workerId });
    const { self, ...rest } = everyPublicCall(t, w.auth, ids);
    for (const [name, call] of Object.entries(rest)) {
      await expectCode(call(), "WORKER_REVOKED").catch((e) => {
        throw new Error(`${name}: ${e}`);
      });
    }
    expect(await self()).toMatchObject({ approval: "revoked", status: "offline" });
  });

  test("a wrong secret for a revoked worker is still just UNAUTHORIZED", async () => {
    const { t, w } = await setup();
    await t.mutation(adminApi.revoke, { worker: w.workerId });
    await expectCode(t.query(workerApi.self, { auth: { ...w.auth, secret: "wrong" } }), "UNAUTHORIZED");
    await expectCode(t.query(workerApi.pendingWork, { auth: { ...w.auth, secret: "wrong" } }), "UNAUTHORIZED");
  });
});

describe("pending worker", () => {
  test("may register and heartbeat but stays offline, sees no work and cannot claim", async () => {
    const t = newBackend();
    const w = await addWorker(t);
    const reg = await t.mutation(workerApi.register, { auth: w.auth, instanceId: w.instanceId, info: INFO });
    expect(reg).toEqual({ approval: "pending", machineName: "laptop", workerName: w.name, recovered: { requeued: 0, interrupted: 0 }, spentToday: { day: new Date().toISOString().slice(0, 10), cost: 0 } });
    const hb = await t.mutation(workerApi.heartbeat, { auth: w.auth, instanceId: w.instanceId, draining: false, runningMessageIds: [] });
    expect(hb.approval).toBe("pending");
    expect((await t.query(workerApi.self, { auth: w.auth })).status).toBe("offline");

    // A person may already queue work for it; it waits until approval.
    const { messageId } = await queuePrompt(t, w);
    expect(await t.query(workerApi.pendingWork, { auth: w.auth })).toEqual({ queued: [], cancelRequested: [] });
    const claim = await t.mutation(workerApi.claim, { auth: w.auth, instanceId: w.instanceId, messageId });
    expect(claim.claimed).toBe(false);

    await t.mutation(adminApi.approve, { worker: w.workerId });
    expect((await t.query(workerApi.pendingWork, { auth: w.auth })).queued.map((q) => q.messageId)).toEqual([messageId]);
    const hb2 = await t.mutation(workerApi.heartbeat, { auth: w.auth, instanceId: w.instanceId, draining: false, runningMessageIds: [] });
    expect(hb2.approval).toBe("approved");
    expect((await t.query(workerApi.self, { auth: w.auth })).status).toBe("online");
  });
});

describe("workers are confined to their own data", () => {
  test("another worker's message and session look like they do not exist", async () => {
    const { t, w, ids } = await setup();
    const intruder = await onlineWorker(t, "other");
    const base = { auth: intruder.auth, instanceId: intruder.instanceId, messageId: ids.messageId };
    await expectCode(t.mutation(workerApi.claim, base), "NOT_FOUND");
    await expectCode(t.mutation(workerApi.appendOutput, { ...base, seq: 0, text: "x" }), "NOT_FOUND");
    await expectCode(t.mutation(workerApi.finish, { ...base, outcome: "completed" }), "NOT_FOUND");
    await expectCode(t.mutation(workerApi.bindSession, { auth: intruder.auth, sessionId: ids.sessionId, agentSessionId: "s" }), "NOT_FOUND");
    await expectCode(t.mutation(workerApi.claim, { ...base, messageId: "not-an-id" }), "NOT_FOUND");
    expect((await t.query(workerApi.pendingWork, { auth: intruder.auth })).queued).toEqual([]);
    expect((await t.query(workerApi.pendingWork, { auth: w.auth })).queued).toHaveLength(1);
  });
});
