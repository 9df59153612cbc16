// The embedded backend serving the repo's own convex/ functions (src/local-backend/modules.ts)
// to the real clients: the path a user takes — add a worker with the admin key, approve it,
// the worker registers with its token, waits on its pending work by subscription, a message
// sent with the admin key arrives, and the worker claims and answers it.
import { afterEach, expect, test } from "bun:test";
import { adminApi, chatApi, workerApi, type PendingWork } from "../../src/backend/api.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { startLocalBackend } from "../../src/local-backend/backend.ts";
import { cleanup, eventually, httpClient, wsClient } from "./helpers.ts";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await cleanup();
  await Promise.all(stops.splice(0).map((s) => s()));
});

test("admin adds and approves a worker; the worker receives, claims and answers a message", async () => {
  // No functions given: the default is the repo's convex/.
  const b = await startLocalBackend({ sweepIntervalMs: 0 });
  stops.push(() => b.stop());
  const admin = httpClient(b.url, { adminKey: b.adminKey });
  const added = await admin.action(adminApi.addWorker, { machineName: "box", workerName: "w1" });
  const token = WorkerToken.parse(added.token)!;
  const auth = { machineId: token.machineId, workerId: token.workerId, secret: token.revealSecret() };
  await admin.mutation(adminApi.approve, { worker: "w1" });

  const worker = wsClient(b.url);
  const info = { hostname: "h", version: "0.0.0", directory: "/tmp/x" };
  expect((await worker.mutation(workerApi.register, { auth, instanceId: "i1", info })).approval).toBe("approved");
  let pending: PendingWork | undefined;
  worker.onUpdate(workerApi.pendingWork, { auth }, (v) => (pending = v));
  await eventually(() => pending?.queued.length === 0, "an empty queue");

  const { sessionId } = await admin.mutation(chatApi.createSession, { worker: "w1" });
  const { messageId } = await admin.mutation(chatApi.send, { sessionId, text: "hello" });
  const queued = await eventually(() => pending?.queued[0], "the message to arrive by subscription");
  expect(queued.prompt).toBe("hello");

  const claim = await worker.mutation(workerApi.claim, { auth, instanceId: "i1", messageId });
  expect(claim.claimed).toBe(true);
  await worker.mutation(workerApi.appendOutput, { auth, instanceId: "i1", messageId, seq: 0, text: "hi there" });
  await worker.mutation(workerApi.finish, { auth, instanceId: "i1", messageId, outcome: "completed" });
  const view = await admin.query(chatApi.message, { messageId });
  expect(view).toMatchObject({ status: "completed", text: "hi there" });

  // The function the maintenance timer calls exists and runs.
  expect(await b.run("admin:sweep")).toEqual({ requeued: 0, interrupted: 0, offline: 0 });
  await b.sweep();
  expect((await admin.query(adminApi.list, {}))[0]!.status).toBe("online");
});
