// Requests a person answers (convex/requests.ts): raised by the worker on a running answer,
// answered once by a person, handed to OpenCode and settled; nothing stays pending for ever.
import { describe, expect, test } from "bun:test";
import { adminApi, requestsApi, workerApi, workerRequestsApi, type RequestContent } from "../../src/backend/api.ts";
import * as requests from "../../convex/requests.ts";
import { RETENTION_DAYS_DEFAULT } from "../../convex/lib/constants.ts";
import * as workers from "../../convex/workers.ts";
import { invalidating, readSetOf, writesOf } from "./read-sets.ts";
import { expectCode, INFO, message, newBackend, onlineWorker, runningPrompt, type Backend, type TestWorker } from "./setup.ts";

const READ_ENV: RequestContent = { kind: "permission", title: "read /p/.env", permission: "read", patterns: ["/p/.env"], detail: "filePath: /p/.env" };
const QUESTION: RequestContent = {
  kind: "question",
  title: "Which colour?",
  questions: [{ question: "Which colour?", header: "Colour", options: [{ label: "red", description: "warm" }, { label: "blue", description: "cold" }] }],
};

const raise = (t: Backend, w: TestWorker, messageId: string, content: RequestContent = READ_ENV, agentRequestId: string | undefined = "per_1") =>
  t.mutation(workerRequestsApi.raise, { auth: w.auth, instanceId: w.instanceId, messageId, ...content, ...(agentRequestId ? { agentRequestId } : {}) });

async function setup() {
  const t = newBackend();
  const w = await onlineWorker(t, "laptop", "alpha");
  const run = await runningPrompt(t, w, "read .env");
  return { t, w, run };
}

describe("raising a request", () => {
  test("is idempotent by OpenCode's id, counted on the message and listed for people", async () => {
    const { t, w, run } = await setup();
    const first = await raise(t, w, run.messageId);
    const again = await raise(t, w, run.messageId);
    expect(again.requestId).toBe(first.requestId);
    expect(first).toMatchObject({ status: "pending", kind: "permission", agentRequestId: "per_1", delivered: false });
    expect(first.requestId).toMatch(/^req_[a-z0-9]{10}$/);
    expect((await message(t, run.messageId)).pendingRequests).toBe(1);
    const listed = await t.query(requestsApi.list, { messageId: run.messageId });
    expect(listed).toEqual([
      { requestId: first.requestId, messageId: run.messageId, kind: "permission", status: "pending", title: "read /p/.env", permission: "read", patterns: ["/p/.env"], detail: "filePath: /p/.env", createdAt: listed[0]!.createdAt },
    ]);
    const pending = await t.query(requestsApi.pending, {});
    expect(pending.map((p) => [p.requestId, p.worker, p.sessionId])).toEqual([[first.requestId, "alpha", run.sessionId]]);
    expect((await t.query(adminApi.list, {})).map((x) => x.pendingRequests)).toEqual([1]);
  });

  test("needs the message's lease, caps what it carries, and refuses other workers' messages", async () => {
    const { t, w, run } = await setup();
    const other = await onlineWorker(t, "laptop", "beta");
    await expectCode(raise(t, other, run.messageId), "NOT_FOUND");
    await expectCode(raise(t, { ...w, instanceId: "someone-else" }, run.messageId), "CONFLICT");
    await expectCode(raise(t, w, run.messageId, { ...READ_ENV, title: "x".repeat(301) }), "INVALID");
    await expectCode(raise(t, w, run.messageId, { ...QUESTION, questions: [] }), "INVALID");
  });
});

describe("answering a request", () => {
  test("once: the worker sees the answer, delivers it, and it leaves its subscription", async () => {
    const { t, w, run } = await setup();
    const r = await raise(t, w, run.messageId);
    expect(await t.query(workerRequestsApi.answered, { auth: w.auth })).toEqual([]);
    expect(await t.mutation(requestsApi.reply, { requestId: r.requestId, reply: "once" })).toEqual({ status: "answered" });
    const answered = await t.query(workerRequestsApi.answered, { auth: w.auth });
    expect(answered.map((a) => [a.requestId, a.status, a.reply, a.agentRequestId])).toEqual([[r.requestId, "answered", "once", "per_1"]]);
    expect((await message(t, run.messageId)).pendingRequests).toBe(0);
    await t.mutation(workerRequestsApi.settle, { auth: w.auth, requestId: r.requestId, outcome: "delivered" });
    expect(await t.query(workerRequestsApi.answered, { auth: w.auth })).toEqual([]);
  });

  test("a second answer is refused, naming how and when the first was given", async () => {
    const { t, w, run } = await setup();
    const r = await raise(t, w, run.messageId);
    await t.mutation(requestsApi.reply, { requestId: r.requestId, reply: "reject", message: "not the secrets" });
    const data = await expectCode(t.mutation(requestsApi.reply, { requestId: r.requestId, reply: "once" }), "ALREADY_ANSWERED");
    expect(String(data.message)).toMatch(/already rejected at \d{4}-\d\d-\d\dT.* with the message "not the secrets"/);
    const [view] = await t.query(requestsApi.list, { messageId: run.messageId });
    expect(view).toMatchObject({ status: "rejected", reply: "reject", message: "not the secrets" });
  });

  test("the answer must fit the request; unknown ids and other workers are refused", async () => {
    const { t, w, run } = await setup();
    const perm = await raise(t, w, run.messageId);
    const q = await raise(t, w, run.messageId, QUESTION, "que_1");
    const budget = await raise(t, w, run.messageId, { kind: "budget", title: "this turn has cost $2.00 of $1.00 — continue?" }, "budget:turn");
    await expectCode(t.mutation(requestsApi.reply, { requestId: "req_nope", reply: "once" }), "NOT_FOUND");
    await expectCode(t.mutation(requestsApi.reply, { requestId: perm.requestId, reply: "once", answers: [["red"]] }), "INVALID");
    await expectCode(t.mutation(requestsApi.reply, { requestId: perm.requestId, reply: "once", message: "why" }), "INVALID");
    await expectCode(t.mutation(requestsApi.reply, { requestId: q.requestId, reply: "once" }), "INVALID");
    await expectCode(t.mutation(requestsApi.reply, { requestId: q.requestId, reply: "always", answers: [["red"]] }), "INVALID");
    await expectCode(t.mutation(requestsApi.reply, { requestId: q.requestId, reply: "once", answers: [["red"], ["blue"]] }), "INVALID");
    await expectCode(t.mutation(requestsApi.reply, { requestId: budget.requestId, reply: "always" }), "INVALID");
    await onlineWorker(t, "laptop", "beta");
    const wrong = await expectCode(t.mutation(requestsApi.reply, { requestId: perm.requestId, reply: "once", worker: "beta" }), "WRONG_WORKER");
    expect(wrong).toMatchObject({ worker: "beta", owner: "alpha" });
    expect(await t.mutation(requestsApi.reply, { requestId: q.requestId, reply: "once", answers: [["blue"]] })).toEqual({ status: "answered" });
    expect(await t.mutation(requestsApi.reply, { requestId: budget.requestId, reply: "once" })).toEqual({ status: "answered" });
    const listed = await t.query(requestsApi.list, { messageId: run.messageId, worker: "alpha" });
    expect(listed.map((r) => [r.kind, r.status, r.answers ?? null])).toEqual([
      ["permission", "pending", null],
      ["question", "answered", [["blue"]]],
      ["budget", "answered", null],
    ]);
  });
});

describe("ending without a person", () => {
  test("the worker rejects on timeout with a reason; a person's answer that got in first wins", async () => {
    const { t, w, run } = await setup();
    const a = await raise(t, w, run.messageId, READ_ENV, "per_a");
    const b = await raise(t, w, run.messageId, READ_ENV, "per_b");
    await expectCode(t.mutation(workerRequestsApi.settle, { auth: w.auth, requestId: a.requestId, outcome: "rejected" }), "INVALID");
    const timedOut = await t.mutation(workerRequestsApi.settle, { auth: w.auth, requestId: a.requestId, outcome: "rejected", reason: "nobody answered within 15m" });
    expect(timedOut).toMatchObject({ status: "rejected", reply: "reject", reason: "nobody answered within 15m", delivered: true });
    await t.mutation(requestsApi.reply, { requestId: b.requestId, reply: "always" });
    const raced = await t.mutation(workerRequestsApi.settle, { auth: w.auth, requestId: b.requestId, outcome: "rejected", reason: "nobody answered within 15m" });
    expect(raced).toMatchObject({ status: "answered", reply: "always", delivered: false });
    await expectCode(t.mutation(requestsApi.reply, { requestId: a.requestId, reply: "once" }), "ALREADY_ANSWERED");
  });

  test("an answer OpenCode no longer knows is expired; finishing the message expires what is left", async () => {
    const { t, w, run } = await setup();
    const a = await raise(t, w, run.messageId, READ_ENV, "per_a");
    const b = await raise(t, w, run.messageId, READ_ENV, "per_b");
    await t.mutation(requestsApi.reply, { requestId: a.requestId, reply: "once" });
    const gone = await t.mutation(workerRequestsApi.settle, { auth: w.auth, requestId: a.requestId, outcome: "expired", reason: "OpenCode no longer knows this request" });
    expect(gone).toMatchObject({ status: "expired", delivered: true });
    await t.mutation(workerApi.finish, { auth: w.auth, instanceId: w.instanceId, messageId: run.messageId, outcome: "completed" });
    const [, left] = await t.query(requestsApi.list, { messageId: run.messageId });
    expect(left).toMatchObject({ requestId: b.requestId, status: "expired" });
    expect(left!.reason).toContain("the answer ended");
    expect(await t.query(requestsApi.pending, {})).toEqual([]);
  });

  test("a worker restart expires the requests of the run it lost", async () => {
    const { t, w, run } = await setup();
    await t.mutation(workerApi.appendOutput, { auth: w.auth, instanceId: w.instanceId, messageId: run.messageId, seq: 0, text: "Reading" });
    const r = await raise(t, w, run.messageId);
    await t.mutation(workerApi.register, { auth: w.auth, instanceId: "restarted", info: INFO });
    const [view] = await t.query(requestsApi.list, { messageId: run.messageId });
    expect(view).toMatchObject({ requestId: r.requestId, status: "expired", reason: "worker restarted while answering" });
    await expectCode(t.mutation(requestsApi.reply, { requestId: r.requestId, reply: "once" }), "ALREADY_ANSWERED");
  });

  test("retention deletes a session's requests with its messages", async () => {
    const { t, w, run } = await setup();
    await raise(t, w, run.messageId);
    await t.mutation(workerApi.finish, { auth: w.auth, instanceId: w.instanceId, messageId: run.messageId, outcome: "completed" });
    await t.run(async (ctx) => {
      await ctx.db.patch(ctx.db.normalizeId("sessions", run.sessionId)!, { lastActivityAt: Date.now() - (RETENTION_DAYS_DEFAULT + 1) * 86_400_000 });
    });
    expect(await t.mutation(adminApi.deleteExpired, {})).toMatchObject({ sessions: 1, messages: 2, requests: 1 });
    expect(await t.run(async (ctx) => (await ctx.db.query("requests").collect()).length)).toBe(0);
  });

  test("revoking the worker expires its pending requests", async () => {
    const { t, w, run } = await setup();
    await raise(t, w, run.messageId);
    await t.mutation(adminApi.revoke, { worker: "alpha" });
    expect((await t.query(requestsApi.list, { messageId: run.messageId }))[0]).toMatchObject({ status: "expired", reason: "the worker was revoked" });
  });
});


describe("the worker's subscription to answers", () => {
  test("a heartbeat or a new request does not re-run it; a person's answer does", async () => {
    const { t, w, run } = await setup();
    const first = await raise(t, w, run.messageId);
    const rs = await readSetOf(t, requests.answered, { auth: w.auth });
    const beat = await writesOf(t, workers.heartbeat, { auth: w.auth, instanceId: w.instanceId, draining: false, runningMessageIds: [run.messageId] });
    expect(invalidating(rs, beat)).toEqual([]);
    const raised = await writesOf(t, requests.raise, { auth: w.auth, instanceId: w.instanceId, messageId: run.messageId, ...READ_ENV, agentRequestId: "per_2" });
    expect(raised.map((x) => x.table)).toEqual(["requests"]);
    expect(invalidating(rs, raised)).toEqual([]);
    const answer = await writesOf(t, requests.reply as never, { requestId: first.requestId, reply: "once" });
    expect(invalidating(rs, answer).map((x) => x.table)).toEqual(["requests"]);
    expect((await t.query(workerRequestsApi.answered, { auth: w.auth })).map((a) => a.requestId)).toEqual([first.requestId]);
  });
});
