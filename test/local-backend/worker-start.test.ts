// What one worker's writes disturb, with the real convex/ functions and the real worker
// client: a worker registering or heartbeating touches no other worker's subscriptions, and a
// prompt for one worker touches that worker's pending work alone. Counted through the engine's
// watchesTouched counter, which moves as a commit is applied (no waiting for re-runs), so
// start-up cost cannot grow with the square of the workers again unnoticed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { connectAdmin, type AdminClient } from "../../src/backend/admin-client.ts";
import { connectWorkerBackend, type WorkerBackend } from "../../src/backend/worker-client.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { startLocalBackend, type LocalBackend } from "../../src/local-backend/backend.ts";
import { modules, schema } from "../../src/local-backend/modules.ts";
import { eventually } from "./helpers.ts";

type Sim = { backend: WorkerBackend; instanceId: string; workerId: string; self: number; pending: number };

const WORKERS = 12;
let b: LocalBackend;
let admin: AdminClient;
const sims: Sim[] = [];

async function newWorker(name: string): Promise<{ token: WorkerToken; workerId: string }> {
  const added = await admin.addWorker("start-test", name);
  await admin.approve(added.workerId);
  return { token: WorkerToken.parse(added.token)!, workerId: added.workerId };
}

/** A worker as src/worker does it: register, its self subscription, its pending work, a beat. */
async function online(name: string): Promise<Sim> {
  const { token, workerId } = await newWorker(name);
  const sim: Sim = { backend: connectWorkerBackend(b.url, token), instanceId: randomUUID(), workerId, self: 0, pending: 0 };
  await sim.backend.register(sim.instanceId, { hostname: "test", version: "test", directory: "/tmp" });
  sim.backend.watchSelf(() => void sim.self++, (e) => { throw e; });
  sim.backend.watchPendingWork(() => void sim.pending++, (e) => { throw e; });
  await sim.backend.heartbeat(sim.instanceId, false, []);
  return sim;
}

beforeAll(async () => {
  b = await startLocalBackend({ schema, modules, sweepIntervalMs: 0 });
  admin = connectAdmin(b.url, b.adminKey);
  for (let i = 0; i < WORKERS; i++) sims.push(await online(`w${i}`));
  await eventually(() => sims.every((s) => s.self > 0 && s.pending > 0), "every worker's first views");
});

afterAll(async () => {
  for (const s of sims) await s.backend.close();
  await admin.close();
  await b.stop();
});

describe("what a worker's writes disturb", () => {
  test("another worker registering and beating touches none of the running workers' subscriptions", async () => {
    const { token } = await newWorker("late");
    const late = connectWorkerBackend(b.url, token);
    try {
      const before = b.engine.stats.watchesTouched;
      const id = randomUUID();
      await late.register(id, { hostname: "test", version: "test", directory: "/tmp" });
      await late.heartbeat(id, false, []);
      expect(b.engine.stats.watchesTouched - before).toBe(0);
    } finally {
      await late.close();
    }
  });

  test("a heartbeat touches nothing, not even the beating worker's own subscriptions", async () => {
    const before = b.engine.stats.watchesTouched;
    for (const s of sims) await s.backend.heartbeat(s.instanceId, false, []);
    expect(b.engine.stats.watchesTouched - before).toBe(0);
  });

  test("a prompt for one worker touches that worker's pending work and nothing else", async () => {
    const target = sims[3]!;
    const { sessionId } = await admin.createSession(target.workerId, "t");
    const pendingBefore = target.pending;
    const before = b.engine.stats.watchesTouched;
    const { messageId } = await admin.send(sessionId, "hello");
    expect(b.engine.stats.watchesTouched - before).toBe(1);
    await eventually(() => target.pending > pendingBefore, "the target's pending work to show the prompt");
    const claim = await target.backend.claim(target.instanceId, messageId);
    expect(claim.claimed).toBe(true);
  });
});
