// Shared steps for the function tests: a fresh in-memory backend per test (convex-test, the
// same engine the embedded backend uses), workers created the way a person creates them.
import { expect } from "bun:test";
import { convexTest } from "convex-test";
import { ConvexError, type Value } from "convex/values";
import { adminApi, chatApi, workerApi, type WorkerAuth } from "../../src/backend/api.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { modules, schema } from "../../src/local-backend/modules.ts";

export type Backend = ReturnType<typeof newBackend>;

export function newBackend() {
  return convexTest(schema, modules);
}

export type TestWorker = { auth: WorkerAuth; token: string; workerId: string; machineId: string; name: string; instanceId: string };

export const INFO = { hostname: "host-a", version: "0.1.0", directory: "/srv/project" };

/** A pending worker, as `admin add-worker` leaves it. */
export async function addWorker(t: Backend, machineName = "laptop", workerName?: string): Promise<TestWorker> {
  const result = await t.action(adminApi.addWorker, { machineName, ...(workerName ? { workerName } : {}) });
  const token = WorkerToken.parse(result.token);
  if (!token) throw new Error(`addWorker returned a malformed token: ${result.token}`);
  return {
    auth: { machineId: token.machineId, workerId: token.workerId, secret: token.revealSecret() },
    token: result.token,
    workerId: result.workerId,
    machineId: result.machineId,
    name: result.name,
    instanceId: `instance-${crypto.randomUUID()}`,
  };
}

/** An approved worker whose process has registered and is online. */
export async function onlineWorker(t: Backend, machineName = "laptop", workerName?: string): Promise<TestWorker> {
  const w = await addWorker(t, machineName, workerName);
  await t.mutation(adminApi.approve, { worker: w.workerId });
  await t.mutation(workerApi.register, { auth: w.auth, instanceId: w.instanceId, info: INFO });
  return w;
}

/** A new session with the worker and one queued prompt; returns the assistant message id. */
export async function queuePrompt(t: Backend, w: TestWorker, text = "hello"): Promise<{ sessionId: string; messageId: string }> {
  const { sessionId } = await t.mutation(chatApi.createSession, { worker: w.workerId, title: "test session" });
  const { messageId } = await t.mutation(chatApi.send, { sessionId, text });
  return { sessionId, messageId };
}

/** A queued prompt claimed by the worker's current instance. */
export async function runningPrompt(t: Backend, w: TestWorker, text = "hello"): Promise<{ sessionId: string; messageId: string }> {
  const queued = await queuePrompt(t, w, text);
  const claim = await t.mutation(workerApi.claim, { auth: w.auth, instanceId: w.instanceId, messageId: queued.messageId });
  expect(claim.claimed).toBe(true);
  return queued;
}

/** Awaits `p` and asserts it failed with a ConvexError carrying `code`; returns the error data. */
export async function expectCode(p: Promise<unknown>, code: string): Promise<Record<string, unknown>> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ConvexError);
  const data = (caught as ConvexError<Value>).data as Record<string, unknown>;
  expect(data.code).toBe(code);
  expect(typeof data.message).toBe("string");
  return data;
}

export async function message(t: Backend, messageId: string) {
  const view = await t.query(chatApi.message, { messageId });
  if (!view) throw new Error(`no message ${messageId}`);
  return view;
}

/** The raw message row, for checks the public views do not expose (lease, attempts). */
export async function messageRow(t: Backend, messageId: string) {
  return await t.run(async (ctx) => {
    const id = ctx.db.normalizeId("messages", messageId);
    const row = id ? await ctx.db.get(id) : null;
    if (!row) throw new Error(`no message row ${messageId}`);
    return row;
  });
}

/** Makes a running message's lease look expired, as if its holder stopped a while ago. */
export async function expireLease(t: Backend, messageId: string): Promise<void> {
  await t.run(async (ctx) => {
    const id = ctx.db.normalizeId("messages", messageId);
    if (!id) throw new Error(`bad id ${messageId}`);
    await ctx.db.patch(id, { leaseExpiresAt: Date.now() - 1 });
  });
}
