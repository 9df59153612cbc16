// Spend limits and usage totals (issue 11) end to end: `dev` with MAX_TURN_COST / MAX_DAILY_COST,
// a real OpenCode on the stub's priced model (every model call costs STUB_PRICED_STEP_COST), the
// embedded backend, `chat` from the real CLI. A turn that crosses its limit is paused and raises
// a budget request; "continue" resumes it, a rejection ends it failed with the reason. The
// totals appear in /status and /metrics.
import { expect, test } from "bun:test";
import type { PendingRequestView } from "../../src/backend/api.ts";
import type { StatusDoc } from "../../src/manager/status.ts";
import { STUB_PRICED_MODEL, STUB_PRICED_STEP_COST, STUB_PROVIDER } from "../support/opencode-env.ts";
import { CONTINUE_PROMPT } from "../../src/worker/budget.ts";
import { CANNED_ANSWER } from "../support/stub-model.ts";
import type { World } from "../support/e2e.ts";
import { runCli } from "../support/cli.ts";
import type { Running } from "../support/proc.ts";
import { adminEnv, answers, sessionOf, startChat, startDev, useWorld } from "./dev-support.ts";
import { metric, parsePrometheus } from "./orchestrate-support.ts";

const world = useWorld();
const TEST_TIMEOUT = 120_000;
const PRICED = `${STUB_PROVIDER}/${STUB_PRICED_MODEL}`;

/** An online dev with these limits and a status endpoint (for `worker`, or a new one); waits until its models are published. */
async function devWithLimits(env: Record<string, string>, existing?: Awaited<ReturnType<World["addWorker"]>>) {
  const worker = existing ?? (await world.addWorker({ approve: true }));
  const dev = startDev("binary", world, { cwd: world.project(), token: worker.token, env: { ...env, OPENCODE_ORCHESTRATOR_STATUS_ADDRESS: "127.0.0.1:0" } });
  const [, address] = await dev.waitFor(/status on http:\/\/(127\.0\.0\.1:\d+)\/status/, { stream: "stderr", timeoutMs: 30_000 });
  await dev.waitFor(/models published/, { stream: "stderr", timeoutMs: 60_000 });
  const get = async (path: string) => (await fetch(`http://${address}${path}`, { signal: AbortSignal.timeout(10_000) })).text();
  return { worker, dev, status: async () => JSON.parse(await get("/status")) as StatusDoc, metrics: async () => parsePrometheus(await get("/metrics")) };
}

/** The budget request `chat` says waits for an answer (on stderr, with how to answer it), as the backend lists it. */
async function budgetRequest(c: Running, w: World, worker: string): Promise<PendingRequestView> {
  const [, id] = await c.waitFor(/budget request (\S+): /, { stream: "stderr", timeoutMs: 60_000 });
  expect(c.stderr).toContain(`answer with: opencode-orchestrator reply ${id} once|reject`);
  const r = (await w.admin.pendingRequests(worker)).find((x) => x.requestId === id);
  if (!r) throw new Error(`request ${id} is not pending`);
  return r;
}

/** `reply` from another process, as a person would. */
function reply(args: string[]) {
  return runCli("binary", ["reply", ...args], { env: adminEnv(world), timeoutMs: 30_000 });
}

test("usage totals: one priced answer shows its tokens and cost in /status (since start, today, last turn) and /metrics", async () => {
  const { worker, status, metrics } = await devWithLimits({});
  const c = startChat("binary", world, ["--worker", worker.workerId, "--new", "--model", PRICED, "Say hello"]);
  expect(await c.exited).toMatchObject({ code: 0 });
  expect(c.stdout).toBe(`${CANNED_ANSWER}\n`);
  const [w] = (await status()).workers;
  expect(w!.usage!.total).toMatchObject({ input: 10, output: 20, reasoning: 0 });
  expect(w!.usage!.total.cost).toBeCloseTo(STUB_PRICED_STEP_COST, 10);
  expect(w!.usage!.today.cost).toBeCloseTo(STUB_PRICED_STEP_COST, 10);
  expect(w!.usage!.today.day).toBe(new Date().toISOString().slice(0, 10));
  expect(w!.usage!.lastTurn!.cost).toBeCloseTo(STUB_PRICED_STEP_COST, 10);
  const m = await metrics();
  expect(m.types.get("opencode_orchestrator_tokens_total")).toBe("counter");
  expect(m.types.get("opencode_orchestrator_cost_usd_total")).toBe("counter");
  expect(metric(m, "opencode_orchestrator_tokens_total", { kind: "input" })).toBe(10);
  expect(metric(m, "opencode_orchestrator_tokens_total", { kind: "output" })).toBe(20);
  expect(metric(m, "opencode_orchestrator_cost_usd_total")).toBeCloseTo(STUB_PRICED_STEP_COST, 10);
  expect(metric(m, "opencode_orchestrator_cost_today_usd")).toBeCloseTo(STUB_PRICED_STEP_COST, 10);
}, TEST_TIMEOUT);

test("max_turn_cost crossed by a tool step: the turn pauses, a budget request asks (--permissions does not waive it); continued, it completes", async () => {
  // The tool call's step costs 0.05, over the 0.04 limit; the model call after the tool (which the
  // stub holds open) is cut, so the turn has cost exactly that step when the person is asked.
  const { worker } = await devWithLimits({ MAX_TURN_COST: "0.04" });
  const c = startChat("binary", world, ["--worker", worker.workerId, "--new", "--model", PRICED, "--permissions", "always", "TOOL THENHANG please"]);
  const r = await budgetRequest(c, world, worker.workerId);
  expect(r).toMatchObject({ kind: "budget", status: "pending" });
  expect(r.title).toBe("this turn has cost $0.0500 of $0.0400 (max_turn_cost) — continue?");
  expect((await reply([r.requestId, "once"])).code).toBe(0);
  expect(await c.exited).toMatchObject({ code: 0 });
  // Resumed with a "continue" prompt in the same OpenCode session; its answer ends the message.
  expect(c.stdout).toBe(`${CANNED_ANSWER}\n`);
  expect(world.stub.completions().at(-1)!.lastUserText).toBe(CONTINUE_PROMPT);
  const [answer] = await answers(world, sessionOf(c.stderr));
  expect(answer).toMatchObject({ status: "completed", reason: null });
  const [listed] = await world.admin.listRequests(answer!.messageId);
  expect(listed).toMatchObject({ kind: "budget", status: "answered", reply: "once" });
}, TEST_TIMEOUT);

test("max_turn_cost: a rejected budget request ends the answer failed with the reason; chat exits 1", async () => {
  const { worker } = await devWithLimits({ MAX_TURN_COST: "0.04" });
  const c = startChat("binary", world, ["--worker", worker.workerId, "--new", "--model", PRICED, "TOOL THENHANG please"]);
  const r = await budgetRequest(c, world, worker.workerId);
  expect((await reply([r.requestId, "reject", "--message", "too pricey"])).code).toBe(0);
  expect(await c.exited).toMatchObject({ code: 1 });
  const reason = "stopped at the spend limit (this turn cost $0.0500 of max_turn_cost $0.0400): rejected: too pricey";
  expect(c.stderr).toContain(`answer failed: ${reason}`);
  const [answer] = await answers(world, sessionOf(c.stderr));
  expect(answer).toMatchObject({ status: "failed", reason });
}, TEST_TIMEOUT);

test("max_daily_cost: a step that ends its turn completes it; the next turn asks before it runs and, rejected, costs nothing", async () => {
  const { worker, status } = await devWithLimits({ MAX_DAILY_COST: "0.04" });
  expect((await status()).workers[0]!.spendLimits).toEqual({ maxTurnCostUsd: null, maxDailyCostUsd: 0.04 });
  const first = startChat("binary", world, ["--worker", worker.workerId, "--new", "--model", PRICED, "Say hello"]);
  expect(await first.exited).toMatchObject({ code: 0 });
  const calls = world.stub.completions().length;
  const second = startChat("binary", world, ["--worker", worker.workerId, "--new", "--model", PRICED, "Say hello again"]);
  const r = await budgetRequest(second, world, worker.workerId);
  expect(r.title).toBe("this worker's turns have cost $0.0500 today (UTC) of $0.0400 (max_daily_cost) — continue?");
  expect((await reply([r.requestId, "reject"])).code).toBe(0);
  expect(await second.exited).toMatchObject({ code: 1 });
  expect(second.stderr).toContain("stopped at the spend limit (today's turns cost $0.0500 of max_daily_cost $0.0400)");
  expect(world.stub.completions().length).toBe(calls);
  expect((await status()).workers[0]!.usage!.today.cost).toBeCloseTo(STUB_PRICED_STEP_COST, 10);
}, TEST_TIMEOUT);

test("max_daily_cost outlives a restart of dev: the day's spend is counted by the backend", async () => {
  const first = await devWithLimits({ MAX_DAILY_COST: "0.04" });
  const c = startChat("binary", world, ["--worker", first.worker.workerId, "--new", "--model", PRICED, "Say hello"]);
  expect(await c.exited).toMatchObject({ code: 0 });
  first.dev.kill("SIGTERM");
  expect(await first.dev.exited).toMatchObject({ code: 0 });

  const again = await devWithLimits({ MAX_DAILY_COST: "0.04" }, first.worker);
  const calls = world.stub.completions().length;
  const next = startChat("binary", world, ["--worker", first.worker.workerId, "--new", "--model", PRICED, "Say hello again"]);
  const r = await budgetRequest(next, world, first.worker.workerId);
  expect(r.title).toBe("this worker's turns have cost $0.0500 today (UTC) of $0.0400 (max_daily_cost) — continue?");
  expect((await reply([r.requestId, "reject"])).code).toBe(0);
  expect(await next.exited).toMatchObject({ code: 1 });
  expect(world.stub.completions().length).toBe(calls);
  // Its /status counts what this process ran: nothing yet.
  expect((await again.status()).workers[0]!.usage!.today.cost).toBe(0);
}, TEST_TIMEOUT);

test("nobody answers a budget request within permission_timeout: the answer ends failed saying so", async () => {
  const { worker } = await devWithLimits({ MAX_TURN_COST: "0.04", PERMISSION_TIMEOUT: "1" });
  const c = startChat("binary", world, ["--worker", worker.workerId, "--new", "--model", PRICED, "TOOL THENHANG please"]);
  expect(await c.exited).toMatchObject({ code: 1 });
  const reason = "stopped at the spend limit (this turn cost $0.0500 of max_turn_cost $0.0400): nobody answered within 1s";
  expect(c.stderr).toContain(`answer failed: ${reason}`);
  const [answer] = await answers(world, sessionOf(c.stderr));
  const [request] = await world.admin.listRequests(answer!.messageId);
  expect(request).toMatchObject({ kind: "budget", status: "rejected", reason: "nobody answered within 1s" });
}, TEST_TIMEOUT);

test("the answer cancelled while its budget request waits: it ends cancelled at once and the request is closed", async () => {
  const { worker } = await devWithLimits({ MAX_TURN_COST: "0.04" });
  const c = startChat("binary", world, ["--worker", worker.workerId, "--new", "--model", PRICED, "TOOL THENHANG please"]);
  const r = await budgetRequest(c, world, worker.workerId);
  const [answer] = await answers(world, sessionOf(c.stderr));
  await world.admin.cancel(answer!.messageId);
  expect(await c.exited).toMatchObject({ code: 1 });
  expect((await world.waitForMessage(answer!.messageId)).status).toBe("cancelled");
  const [request] = await world.admin.listRequests(answer!.messageId);
  // Ended by the worker, not by a person (expired or rejected: the desk decides), naming why.
  expect(request!.requestId).toBe(r.requestId);
  expect(["expired", "rejected"]).toContain(request!.status);
  expect(request!.reason).toContain("cancelled");
}, TEST_TIMEOUT);
