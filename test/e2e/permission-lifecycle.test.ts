// A permission request nobody answers never holds a turn for ever: the permission timeout
// rejects it with the reason, a draining worker rejects it, and a worker that restarts marks
// what the lost run asked as expired. Each through the real CLI, dev, OpenCode and the stub.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Running } from "../support/proc.ts";
import { TOOL_FINAL_ANSWER } from "../support/stub-model.ts";
import { adminEnv, answers, opencodePid, sessionOf, startChat, startDev, useWorld, chatEvents, type ChatEvent } from "./dev-support.ts";
import { runCli } from "../support/cli.ts";

const TEST_TIMEOUT = 120_000;

const world = useWorld();

/** An online dev whose project has a .env.local the agent will be asked to read. */
async function devWithSecret(env: Record<string, string> = {}) {
  const worker = await world.addWorker({ approve: true });
  const cwd = world.project();
  writeFileSync(join(cwd, ".env.local"), "API_KEY=lifecycle\n");
  const dev = startDev("binary", world, { cwd, token: worker.token, env });
  await dev.waitFor(/\bonline\b/, { stream: "stderr", timeoutMs: 30_000 });
  return { worker, cwd, dev };
}

function chatReadingSecret(workerId: string, cwd: string): Running {
  return startChat("binary", world, ["--worker", workerId, "--new", "--json", `TOOLJSON:read ${JSON.stringify({ filePath: join(cwd, ".env.local") })}`]);
}

const pendingId = async (c: Running) => (await c.waitFor(/permission (req_[a-z0-9]+) waits for an answer/, { stream: "stderr", timeoutMs: 60_000 }))[1]!;

describe("requests nobody answers", () => {
  test("nobody answers within permission_timeout: rejected with the reason, shown in the chat; the answer completes", async () => {
    const { worker, cwd } = await devWithSecret({ PERMISSION_TIMEOUT: "2" });
    const c = chatReadingSecret(worker.workerId, cwd);
    const id = await pendingId(c);
    expect(await c.exited).toEqual({ code: 0, signal: null });
    const evs = chatEvents(c.stdout);
    const perms = evs.filter((e) => e.type === "permission");
    expect(perms.map((e) => [e.requestId, e.status, e.reason ?? null])).toEqual([
      [id, "pending", null],
      [id, "rejected", "nobody answered within 2s"],
    ]);
    expect(evs.filter((e) => e.type === "tool").at(-1)).toMatchObject({ name: "read", status: "error" });
    // Refused without a message, OpenCode ends the turn there.
    expect(evs.at(-1)).toMatchObject({ type: "end", status: "completed" });
  }, TEST_TIMEOUT);

  test("drain with a pending request: it is rejected with the reason before the turn ends, and dev exits", async () => {
    const { worker, cwd, dev } = await devWithSecret();
    const c = chatReadingSecret(worker.workerId, cwd);
    const id = await pendingId(c);
    dev.kill("SIGTERM");
    expect(await c.exited).toEqual({ code: 0, signal: null });
    const perms = chatEvents(c.stdout).filter((e) => e.type === "permission");
    expect(perms.at(-1)).toMatchObject({ requestId: id, status: "rejected", reason: "the worker is stopping" });
    expect(chatEvents(c.stdout).at(-1)).toMatchObject({ type: "end", status: "completed" });
    expect((await dev.exited).code).toBe(0);
  }, TEST_TIMEOUT);

  test("a worker restart mid-request marks it expired; the answer ends interrupted", async () => {
    const { worker, cwd, dev } = await devWithSecret();
    const c = chatReadingSecret(worker.workerId, cwd);
    const id = await pendingId(c);
    // Once part of the answer is stored the run cannot simply start over: it ends interrupted.
    const [answer] = await answers(world, sessionOf(c.stderr));
    await world.waitForMessage(answer!.messageId, (m) => m.outputBatches > 0);
    const agentPid = await opencodePid(dev);
    dev.kill("SIGKILL");
    await dev.exited;
    process.kill(-agentPid, "SIGKILL");
    const again = startDev("binary", world, { cwd, token: worker.token });
    await again.waitFor(/\bonline\b/, { stream: "stderr", timeoutMs: 30_000 });
    expect((await c.exited).code).toBe(1);
    const evs = chatEvents(c.stdout);
    expect(evs.filter((e) => e.type === "permission").at(-1)).toMatchObject({ requestId: id, status: "expired", reason: "worker restarted while answering" });
    expect(evs.at(-1)).toMatchObject({ type: "end", status: "interrupted" });
  }, TEST_TIMEOUT);
});

describe("OpenCode going away", () => {
  test("OpenCode dies mid-request: the request expires (nobody can act on it), the answer fails, the worker goes on", async () => {
    const { worker, cwd, dev } = await devWithSecret();
    const c = chatReadingSecret(worker.workerId, cwd);
    const id = await pendingId(c);
    process.kill(-(await opencodePid(dev)), "SIGKILL");
    expect((await c.exited).code).toBe(1);
    const evs = chatEvents(c.stdout);
    const last = evs.filter((e) => e.type === "permission").at(-1)!;
    expect(last).toMatchObject({ requestId: id, status: "expired" });
    expect(last.reason).toContain("OpenCode exited unexpectedly");
    expect(evs.at(-1)).toMatchObject({ type: "end", status: "failed" });
    // A fresh OpenCode takes the next prompt.
    const next = startChat("binary", world, ["--worker", worker.workerId, "--new", "ECHO: still here"]);
    expect(await next.exited).toEqual({ code: 0, signal: null });
    expect(next.stdout).toBe("still here\n");
  }, TEST_TIMEOUT);
});

describe("questions", () => {
  const question = {
    questions: [{ question: "Which colour should the button be?", header: "Colour", options: [{ label: "red", description: "warm" }, { label: "blue", description: "cold" }] }],
  };

  test("answered with reply --answer: the agent gets the answer; rejected: the agent is told", async () => {
    const { worker } = await devWithSecret();
    const ask = (extra: string[] = []) => startChat("binary", world, ["--worker", worker.workerId, "--new", ...extra, `TOOLJSON:question ${JSON.stringify(question)}`]);
    const first = ask();
    const id = (await first.waitFor(/question (req_[a-z0-9]+): Which colour should the button be\?/, { stream: "stderr", timeoutMs: 60_000 }))[1]!;
    // Numbered as --answer takes them.
    expect(first.stderr).toContain("\n    1. red — warm\n    2. blue — cold\n");
    expect(first.stderr).toContain(`opencode-orchestrator reply ${id} --answer 1|1,3|TEXT`);
    const replyCli = (args: string[]) => runCli("binary", ["reply", ...args], { env: adminEnv(world), timeoutMs: 30_000 });
    const always = await replyCli([id, "always"]);
    expect(always.code).toBe(1);
    expect(always.stderr).toContain("is a question: answer it with --answer TEXT, or reject it");
    const ok = await replyCli([id, "--answer", "2"]);
    expect(ok.code).toBe(0);
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.stdout).toBe(`${TOOL_FINAL_ANSWER}\n`);
    expect(JSON.stringify(world.stub.completions().at(-1)!.body.messages.find((m: ChatEvent) => m.role === "tool"))).toContain("blue");

    const before = world.stub.completions().length;
    const second = ask(["--json"]);
    const id2 = (await second.waitFor(/question (req_[a-z0-9]+) waits for an answer/, { stream: "stderr", timeoutMs: 60_000 }))[1]!;
    expect((await replyCli([id2, "reject"])).code).toBe(0);
    expect((await second.exited).code).toBe(0);
    const evs = chatEvents(second.stdout);
    expect(evs.filter((e) => e.type === "question").map((e) => [e.requestId, e.status])).toEqual([
      [id2, "pending"],
      [id2, "rejected"],
    ]);
    expect(evs.find((e) => e.type === "question")!.questions).toEqual(question.questions);
    expect(evs.filter((e) => e.type === "tool").at(-1)).toMatchObject({ name: "question", status: "error" });
    // Refused, the agent stops there: no model call after the one that asked.
    expect(world.stub.completions().length).toBe(before + 1);
  }, TEST_TIMEOUT);
});
