// The interactive chat's inline requests and its drawing of a turn's parts, on a real
// pseudo-terminal. The worker side is played by the test through the real worker client against
// the embedded backend (as test/e2e/foreign-text.test.ts does), so each request, part and answer
// is exactly what the test says — including escape sequences the agent might send.
import { afterEach, describe, expect, test } from "bun:test";
import { connectWorkerBackend, type WorkerBackend } from "../../src/backend/worker-client.ts";
import type { PartUpdate } from "../../src/backend/api.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { adminEnv, useWorld } from "../e2e/dev-support.ts";
import { CTRL_C, CTRL_D, ENTER, startOnPty, type PtyProcess } from "../support/pty.ts";

const world = useWorld();
const T = 90_000;
const clients: WorkerBackend[] = [];
const ptys: PtyProcess[] = [];
afterEach(async () => {
  for (const p of ptys.splice(0)) p.kill();
  for (const c of clients.splice(0)) await c.close();
});

async function playedWorker(name: string) {
  const w = await world.addWorker({ name, approve: true });
  const backend = connectWorkerBackend(world.backend.url, WorkerToken.parse(w.token)!);
  clients.push(backend);
  const instanceId = `instance-${name}`;
  await backend.register(instanceId, { hostname: "box", directory: "/srv/project", version: "0.0.0-test" });
  return { ...w, backend, instanceId };
}

/** Types a prompt in the chat and claims its answer as the played worker. */
async function prompt(p: PtyProcess, w: Awaited<ReturnType<typeof playedWorker>>, text: string, from: number) {
  await p.waitFor(/^> $/m, { from });
  const at = p.mark();
  p.type(text + ENTER);
  const sessionId = (await p.waitFor(/session (\S+) \(new\)/, { from: 0 }))[1]!;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = (await world.admin.messages(sessionId)).filter((x) => x.role === "assistant").at(-1);
    if (m && (await world.admin.messages(sessionId)).some((x) => x.role === "user" && x.text === text) && m.status === "queued") {
      expect(await w.backend.claim(w.instanceId, m.messageId)).toMatchObject({ claimed: true });
      return { messageId: m.messageId, at };
    }
    if (Date.now() > deadline) throw new Error(`no queued answer for ${text}`);
    await Bun.sleep(50);
  }
}

const only = async (messageId: string) => {
  const [r] = await world.admin.listRequests(messageId);
  return r!;
};

describe("interactive chat with a played worker: requests, parts, waiting", () => {
  test("a permission request is asked inline and allowed once; the turn's reasoning, text, tool, file, todo and usage are drawn; agent escapes made visible", async () => {
    const w = await playedWorker("played-permission");
    const p = startOnPty("binary", ["chat", "--worker", w.name, "--new"], adminEnv(world));
    ptys.push(p);
    const { messageId, at } = await prompt(p, w, "read the .env please", 0);
    await w.backend.raiseRequest(w.instanceId, messageId, { kind: "permission", title: "read /srv/project/.env\u001b[2J", permission: "read", patterns: ["/srv/project/.env"], detail: "filePath: /srv/project/.env" }, "per_1");
    await p.waitFor(/\? read \/srv\/project\/\.env\\x1b\[2J\n  read: \/srv\/project\/\.env\n  filePath: \/srv\/project\/\.env\n/, { from: at });
    await p.waitFor(/allow\? \[o\]nce \[a\]lways \[r\]eject \(r MESSAGE says why\): $/, { from: at });
    p.type("x" + ENTER);
    await p.waitFor(/type o \(once\), a \(always\) or r/, { from: at });
    p.type("o" + ENTER);
    await p.waitFor(/→ allowed once\n/, { from: at });
    expect(await only(messageId)).toMatchObject({ status: "answered", reply: "once" });

    const tool = { name: "read", callId: "c1", title: "src/app.ts", input: '{"filePath":"src/app.ts"}', output: "ok", error: null, truncated: [] };
    const parts: PartUpdate[] = [
      { key: "r1", kind: "reasoning", append: "Thinking\u001b]0;owned\u0007 about it." },
      { key: "t1", kind: "text", start: 0, end: 12 },
      { key: "tool1", kind: "tool", tool: { ...tool, status: "completed" } },
      { key: "file:src/app.ts", kind: "file", file: { path: "src/app.ts", status: "modified", additions: 3, deletions: 1, patch: "@@", patchTruncated: false } },
      { key: "todo", kind: "todo", todos: [{ content: "read .env", status: "completed", priority: "high" }, { content: "fix app", status: "pending", priority: "low" }] },
      { key: "usage:m1", kind: "usage", usage: { scope: "message", input: 1200, output: 34, reasoning: 0, cacheRead: 0, cacheWrite: 0, cost: 0.0123 } },
    ];
    await w.backend.appendOutput(w.instanceId, messageId, 0, "It says hi.\n", parts);
    await w.backend.finish(w.instanceId, messageId, "completed");
    await p.waitFor(/Thinking\\x1b\]0;owned\\x07 about it\.\nIt says hi\.\n⚙ read src\/app\.ts +✓\nM src\/app\.ts \+3 −1\ntodo:\n  ☑ read \.env\n  ☐ fix app\ntokens: 1,200 in · 34 out · \$0\.0123\n> $/, { from: at });
    // What the agent sent never reaches the terminal raw.
    expect(p.raw).not.toContain("\u001b]0;owned");
    expect(p.raw).not.toContain("\u001b[2J");
    p.type(CTRL_D);
    expect(await p.exited).toBe(0);
  }, T);

  test("a question is answered by option number; a permission rejected with a message; one answered elsewhere ends its prompt; a budget request continued", async () => {
    const w = await playedWorker("played-question");
    const p = startOnPty("binary", ["chat", "--worker", w.name, "--new"], adminEnv(world));
    ptys.push(p);
    const { messageId, at } = await prompt(p, w, "ask me things", 0);
    const question = { question: "Which color?", header: "Color", options: [{ label: "red", description: "warm" }, { label: "blue", description: "cold" }] };
    await w.backend.raiseRequest(w.instanceId, messageId, { kind: "question", title: "Which color?", questions: [question] }, "que_1");
    await p.waitFor(/Color: Which color\?\n  1\. red — warm\n  2\. blue — cold\n/, { from: at });
    await p.waitFor(/answer: 1-2 or your own words, r rejects: $/, { from: at });
    p.type("2" + ENTER);
    await p.waitFor(/→ answered: blue\n/, { from: at });
    const afterQuestion = p.mark();
    const asked = (await world.admin.listRequests(messageId))[0]!;
    expect(asked).toMatchObject({ status: "answered", answers: [["blue"]] });

    await w.backend.raiseRequest(w.instanceId, messageId, { kind: "permission", title: "bash rm -rf build", permission: "bash", patterns: ["rm -rf build"] }, "per_2");
    await p.waitFor(/allow\? /, { from: afterQuestion });
    p.type("r not today" + ENTER);
    await p.waitFor(/→ rejected: not today\n/, { from: afterQuestion });
    const afterReject = p.mark();
    const rejected = (await world.admin.listRequests(messageId))[1]!;
    expect(rejected).toMatchObject({ status: "rejected", reply: "reject", message: "not today" });

    const third = await w.backend.raiseRequest(w.instanceId, messageId, { kind: "permission", title: "edit src/x.ts", permission: "edit" }, "per_3");
    await p.waitFor(/\? edit src\/x\.ts\n[\s\S]*allow\? \[o\]nce \[a\]lways \[r\]eject \(r MESSAGE says why\): $/, { from: afterReject });
    await world.admin.reply(third.requestId, "always");
    await p.waitFor(/says why\): \n  → always allowed elsewhere\n/, { from: afterReject });
    const afterElsewhere = p.mark();

    const budget = await w.backend.raiseRequest(w.instanceId, messageId, { kind: "budget", title: "this turn has cost $1.20 of $1.00 — continue?" });
    await p.waitFor(/\? this turn has cost \$1\.20 of \$1\.00 — continue\?\n\[c\]ontinue or \[s\]top\? $/, { from: afterElsewhere });
    p.type("c" + ENTER);
    await p.waitFor(/→ continued\n/, { from: afterElsewhere });
    expect((await world.admin.listRequests(messageId)).find((r) => r.requestId === budget.requestId)).toMatchObject({ status: "answered", reply: "once" });

    await w.backend.appendOutput(w.instanceId, messageId, 0, "Done.", [{ key: "t1", kind: "text", start: 0, end: 5 }]);
    await w.backend.finish(w.instanceId, messageId, "completed");
    await p.waitFor(/Done\.\n> $/, { from: afterReject });
    p.type(CTRL_D);
    expect(await p.exited).toBe(0);
  }, T);

  test("with --permissions once every request is answered so without asking", async () => {
    const w = await playedWorker("played-auto");
    const p = startOnPty("binary", ["chat", "--worker", w.name, "--new", "--permissions", "once"], adminEnv(world));
    ptys.push(p);
    const { messageId, at } = await prompt(p, w, "go ahead", 0);
    await w.backend.raiseRequest(w.instanceId, messageId, { kind: "permission", title: "bash make", permission: "bash", patterns: ["make"] }, "per_auto");
    await p.waitFor(/\? bash make\n  bash: make\n  → allowed once \(--permissions\)\n/, { from: at });
    expect(await only(messageId)).toMatchObject({ status: "answered", reply: "once" });
    expect(p.text.slice(at)).not.toContain("allow?");
    await w.backend.finish(w.instanceId, messageId, "completed");
    await p.waitFor(/^> $/m, { from: at + 1 });
    p.type(CTRL_D);
    expect(await p.exited).toBe(0);
  }, T);

  test("a prompt to a worker not approved yet says it waits, and Ctrl+C cancels it before it starts; Ctrl+C drops a typed line without the leave hint", async () => {
    const w = await world.addWorker({ name: "not-approved" });
    const p = startOnPty("binary", ["chat", "--worker", w.name, "--new"], adminEnv(world));
    ptys.push(p);
    await p.waitFor(/^> $/m);
    const at = p.mark();
    p.type("Say hello" + ENTER);
    await p.waitFor(/worker "not-approved" is not approved yet: the answer starts once it is \(opencode-orchestrator admin approve not-approved/, { from: at });
    p.type(CTRL_C);
    await p.waitFor(/answer cancelled: cancelled before it started\n> $/, { from: at });
    const sessionId = (await p.waitFor(/session (\S+) \(new\)/))[1]!;
    const [answer] = (await world.admin.messages(sessionId)).filter((m) => m.role === "assistant");
    expect(answer).toMatchObject({ status: "cancelled", text: "" });

    const typed = p.mark();
    p.type("half a thought");
    await p.waitFor(/half a thought$/, { from: typed });
    p.type(CTRL_C);
    await p.waitFor(/half a thought\^C\n> $/, { from: typed });
    expect(p.text.slice(typed)).not.toContain("to leave");
    p.type(CTRL_C);
    await p.waitFor(/press Ctrl\+C again or Ctrl\+D to leave/, { from: typed });
    p.type(CTRL_D);
    expect(await p.exited).toBe(0);
  }, T);

  test("with colors a tool line is rewritten in place when it finishes, and printed anew when text came in between", async () => {
    const w = await playedWorker("played-colors");
    const p = startOnPty("binary", ["chat", "--worker", w.name, "--new"], { ...adminEnv(world), NO_COLOR: undefined });
    ptys.push(p);
    const { messageId, at } = await prompt(p, w, "run things", 0);
    const tool = (callId: string, status: "running" | "completed") =>
      ({ key: callId, kind: "tool", tool: { name: "bash", callId, status, title: `step ${callId}`, input: "{}", output: null, error: null, truncated: [] } }) as PartUpdate;
    await w.backend.appendOutput(w.instanceId, messageId, 0, "", [tool("a", "running")]);
    await p.waitFor(/⚙ bash step a  …\n/, { from: at });
    const rawBefore = p.raw.length;
    await w.backend.appendOutput(w.instanceId, messageId, 1, "", [tool("a", "completed")]);
    await p.waitFor(/⚙ bash step a  ✓\n/, { from: at });
    // Up one line, to its start, erased: the running line became the finished one.
    expect(p.raw.slice(rawBefore)).toMatch(/^\x1b\[1A\r\x1b\[2K\x1b\[2m⚙ bash step a/);

    await w.backend.appendOutput(w.instanceId, messageId, 2, "", [tool("b", "running")]);
    await p.waitFor(/⚙ bash step b  …\n/, { from: at });
    await w.backend.appendOutput(w.instanceId, messageId, 3, "meanwhile\n", [{ key: "t1", kind: "text", start: 0, end: 10 }]);
    await p.waitFor(/meanwhile\n/, { from: at });
    const rawAfterText = p.raw.length;
    await w.backend.appendOutput(w.instanceId, messageId, 4, "", [tool("b", "completed")]);
    await p.waitFor(/meanwhile\n⚙ bash step b  ✓\n/, { from: at });
    expect(p.raw.slice(rawAfterText)).not.toContain("\x1b[1A");
    await w.backend.finish(w.instanceId, messageId, "completed");
    await p.waitFor(/^> $/m, { from: p.text.lastIndexOf("step b") });
    p.type(CTRL_D);
    expect(await p.exited).toBe(0);
  }, T);

  test("a second Ctrl+C stops waiting for an answer whose worker does not stop it, and the session goes on", async () => {
    const w = await playedWorker("played-stubborn");
    const p = startOnPty("binary", ["chat", "--worker", w.name, "--new"], adminEnv(world));
    ptys.push(p);
    const { messageId, at } = await prompt(p, w, "never ending", 0);
    await w.backend.appendOutput(w.instanceId, messageId, 0, "working", [{ key: "t1", kind: "text", start: 0, end: 7 }]);
    await p.waitFor(/working/, { from: at });
    p.type(CTRL_C);
    await p.waitFor(/cancelling the answer… \(Ctrl\+C again to stop waiting\)\n/, { from: at });
    p.type(CTRL_C);
    await p.waitFor(/error: stopped waiting; the answer may still be running\n.*\n> $/, { from: at });
    expect((await world.admin.message(messageId))!.status).toBe("running");
    p.type(CTRL_D);
    expect(await p.exited).toBe(0);
  }, T);
});
