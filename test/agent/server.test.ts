// A real OpenCode (node_modules/.bin/opencode) against the stub model, in temp folders.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentServer } from "../../src/agent/index.ts";
import { groupExists, pidAlive } from "../../src/util/process-group.ts";
import { redact } from "../../src/util/redact.ts";
import { stubOpencodeConfig } from "../support/opencode-env.ts";
import { CANNED_ANSWER, stubFailureMessage, TOOL_FINAL_ANSWER } from "../support/stub-model.ts";
import { harness, turn, withTimeout, type Harness } from "./helpers.ts";

// Real OpenCode processes: boots take seconds on 2 cores.
const SLOW_TEST = 120_000;

async function waitUntil(cond: () => boolean, ms: number, what: string): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("one OpenCode server, many turns", () => {
  let h: Harness;
  let agent: AgentServer;

  beforeAll(async () => {
    h = await harness({ chunkDelayMs: 100 }); // slow enough for two answers to overlap
    agent = await h.start();
  }, SLOW_TEST);
  afterAll(async () => {
    await h?.close();
  }, SLOW_TEST);

  test("starts on 127.0.0.1 with basic auth and lists the stub's models", async () => {
    expect(agent.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(pidAlive(agent.pid)).toBe(true);
    // Unauthenticated requests are refused: the password really is required.
    const anon = await fetch(`${agent.url}/global/health`);
    expect(anon.status).toBe(401);
    const models = await agent.listModels();
    expect(models).toContainEqual({ providerId: "stub", modelId: "stub-model", name: "Stub Model" });
  }, SLOW_TEST);

  test("a turn streams the canned answer and completes", async () => {
    const sessionId = await agent.createSession("first");
    expect(sessionId).toMatch(/^ses_/);
    expect(await agent.hasSession(sessionId)).toBe(true);
    const before = h.stub.completions().length;
    const t = turn(agent, sessionId, "Say hello");
    const r = await t.done;
    expect(r).toEqual({ outcome: "completed" });
    expect(t.text()).toBe(CANNED_ANSWER);
    expect(t.activity()).toBeGreaterThan(0);
    // One model request per prompt (the title was given, so no title generation).
    expect(h.stub.completions().length).toBe(before + 1);
    expect(h.stub.completions().at(-1)!.lastUserText).toContain("Say hello");
  }, SLOW_TEST);

  test("unknown sessions are reported as missing", async () => {
    expect(await agent.hasSession("ses_doesnotexist000000000000")).toBe(false);
    expect(await agent.hasSession("not-an-opencode-id")).toBe(false);
  }, SLOW_TEST);

  test("two turns on two sessions run at once and keep their answers apart", async () => {
    const [s1, s2] = await Promise.all([agent.createSession("one"), agent.createSession("two")]);
    const a = turn(agent, s1, "ECHO: alpha answer for the first session, in several words");
    const b = turn(agent, s2, "ECHO: beta answer for the second session, in several words");
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra).toEqual({ outcome: "completed" });
    expect(rb).toEqual({ outcome: "completed" });
    expect(a.text()).toBe("alpha answer for the first session, in several words");
    expect(b.text()).toBe("beta answer for the second session, in several words");
    expect(agent.activeTurns()).toBe(0);
    // They really overlapped: both model requests were open at the same time.
    const reqs = h.stub.completions().filter((r) => /ECHO: (alpha|beta) answer/.test(r.lastUserText));
    expect(reqs.length).toBe(2);
    expect(Math.max(...reqs.map((r) => r.receivedAt))).toBeLessThan(Math.min(...reqs.map((r) => r.finishedAt!)));
  }, SLOW_TEST);

  test("a second turn in a session that is still running is refused", async () => {
    const s = await agent.createSession("busy");
    const a = turn(agent, s, "ECHO: first");
    expect(() => agent.runPrompt({ sessionId: s, prompt: "x", onText: () => {}, signal: new AbortController().signal, inactivityTimeoutMs: 1000 })).toThrow(
      /already running/,
    );
    expect(await a.done).toEqual({ outcome: "completed" });
  }, SLOW_TEST);

  test("a tool call runs and only the final answer is relayed", async () => {
    const s = await agent.createSession("tool");
    const t = turn(agent, s, "TOOL please");
    expect(await t.done).toEqual({ outcome: "completed" });
    expect(t.text()).toBe(TOOL_FINAL_ANSWER);
    expect(h.stub.requests.some((r) => r.mode === "tool-final")).toBe(true);
  }, SLOW_TEST);

  test("cancelling aborts OpenCode's turn, and the session answers the next prompt", async () => {
    const s = await agent.createSession("cancel");
    const t = turn(agent, s, "SLOW please");
    await withTimeout(t.firstText, 60_000, "slow answer starts");
    t.cancel();
    // The next prompt goes in the moment the cancel settles, as a worker with a queue does:
    // the aborted run's duplicate `session.idle` (trap 3) must not end it early.
    const next = t.done.then(() => turn(agent, s, "ECHO: after the cancel"));
    expect(await withTimeout(t.done, 20_000, "cancelled turn settles")).toEqual({ outcome: "cancelled" });
    // The model request was really cut off, not left streaming.
    await h.stub.waitForRequest((r) => r.mode === "slow" && r.closedEarly, 10_000);
    expect(t.text().length).toBeLessThan(200);
    const n = await next;
    expect(await n.done).toEqual({ outcome: "completed" });
    expect(n.text()).toBe("after the cancel");
  }, SLOW_TEST);

  test("a turn cancelled before it starts never reaches the model", async () => {
    const s = await agent.createSession("pre-cancelled");
    const before = h.stub.requests.length;
    const ac = new AbortController();
    ac.abort();
    const r = await agent.runPrompt({ sessionId: s, prompt: "ECHO: never", onText: () => {}, signal: ac.signal, inactivityTimeoutMs: 5_000 });
    expect(r).toEqual({ outcome: "cancelled" });
    expect(h.stub.requests.length).toBe(before);
  }, SLOW_TEST);

  test("a model error fails the turn with OpenCode's error text", async () => {
    const s = await agent.createSession("fail");
    const t = turn(agent, s, "FAIL400 please");
    const r = await t.done;
    expect(r.outcome).toBe("failed");
    expect(r.outcome === "failed" && r.reason).toContain(stubFailureMessage(400));
    expect(r.outcome === "failed" && r.reason).toContain("400");
    // The session is still usable.
    const next = turn(agent, s, "ECHO: fine again");
    expect(await next.done).toEqual({ outcome: "completed" });
    expect(next.text()).toBe("fine again");
  }, SLOW_TEST);

  test("a turn without agent activity is aborted and failed", async () => {
    const s = await agent.createSession("hang");
    const t = turn(agent, s, "HANG please", 3_000);
    const r = await withTimeout(t.done, 30_000, "inactivity timeout");
    expect(r).toEqual({ outcome: "failed", reason: "no agent activity for 3 s" });
    // The abort reached the model request.
    await h.stub.waitForRequest((r) => r.mode === "hang" && r.closedEarly, 10_000);
    const next = turn(agent, s, "ECHO: awake");
    expect(await next.done).toEqual({ outcome: "completed" });
    expect(next.text()).toBe("awake");
  }, SLOW_TEST);

  test("a prompt for a session that does not exist fails instead of hanging", async () => {
    const r = await turn(agent, "ses_doesnotexist000000000000", "hello", 20_000).done;
    expect(r.outcome).toBe("failed");
  }, SLOW_TEST);

  test("the server password never shows in logs", () => {
    const env = readFileSync(`/proc/${agent.pid}/environ`, "utf8").split("\0");
    const pw = env.find((v) => v.startsWith("OPENCODE_SERVER_PASSWORD="))!.split("=")[1]!;
    expect(pw.length).toBeGreaterThanOrEqual(16);
    expect(h.lines.join("\n")).not.toContain(pw);
    expect(redact(`x ${pw} y`)).not.toContain(pw);
  }, SLOW_TEST);
});

describe("OpenCode's environment", () => {
  let h: Harness;
  afterAll(async () => {
    await h?.close();
  }, SLOW_TEST);

  test("holds no worker token or secret of ours, in the server or in its tools", async () => {
    h = await harness();
    const token = "machine_m1:worker_w1:secret_S3cr3tValue_xyz-123";
    h.env.WORKER_TOKEN = token;
    h.env.OTHER_WORKERS = `a=${token.replace("w1", "w2")}`;
    h.env.CONVEX_ADMIN_KEY = "admin-key-value-1234";
    h.env.CONVEX_DEPLOY_KEY = "deploy-key-value-1234";
    h.env.OPENCODE_ORCHESTRATOR_CONFIG = "/somewhere/workers.json";
    h.env.KEEP_ME = "user-value";
    const agent = await h.start();
    const environ = readFileSync(`/proc/${agent.pid}/environ`, "utf8");
    const cmdline = readFileSync(`/proc/${agent.pid}/cmdline`, "utf8");
    for (const text of [environ, cmdline]) {
      expect(text).not.toContain("secret_");
      expect(text).not.toContain("admin-key-value");
      expect(text).not.toContain("deploy-key-value");
    }
    const vars = environ.split("\0");
    expect(vars.some((v) => v.startsWith("WORKER_TOKEN="))).toBe(false);
    expect(vars.some((v) => v.startsWith("OPENCODE_ORCHESTRATOR_CONFIG="))).toBe(false);
    expect(vars).toContain("KEEP_ME=user-value");
    expect(vars).toContain("OPENCODE_DISABLE_AUTOUPDATE=1");
    expect(vars.some((v) => /^OPENCODE_ORCHESTRATOR_AGENT=[0-9a-f]{16,}$/.test(v))).toBe(true);
    // The user's OpenCode config (here: the test's stub config) is passed through untouched.
    expect(vars.find((v) => v.startsWith("OPENCODE_CONFIG_CONTENT="))).toBe(`OPENCODE_CONFIG_CONTENT=${h.env.OPENCODE_CONFIG_CONTENT}`);
    expect(cmdline.split("\0")).toEqual(expect.arrayContaining(["serve", "--hostname", "127.0.0.1", "--port", "0"]));

    // What a shell tool sees, as the model would.
    const out = join(h.directory, "tool-env.txt");
    const s = await agent.createSession("env");
    expect(await turn(agent, s, `TOOLCMD: env > ${out}`).done).toEqual({ outcome: "completed" });
    const toolEnv = readFileSync(out, "utf8");
    expect(toolEnv).toContain("KEEP_ME=user-value");
    expect(toolEnv).not.toContain("secret_");
    expect(toolEnv).not.toContain("admin-key-value");
  }, SLOW_TEST);
});

describe("process lifecycle", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ slowChunkDelayMs: 300 });
  }, SLOW_TEST);
  afterAll(async () => {
    await h?.close();
  }, SLOW_TEST);

  test("OpenCode killed mid-turn fails the turn; a fresh server works", async () => {
    const agent = await h.start();
    const s = await agent.createSession("crash");
    const t = turn(agent, s, "SLOW please");
    await withTimeout(t.firstText, 60_000, "slow answer starts");
    process.kill(agent.pid, "SIGKILL");
    const r = await withTimeout(t.done, 20_000, "turn fails after the crash");
    expect(r).toEqual({ outcome: "failed", reason: "OpenCode exited unexpectedly (signal SIGKILL)" });
    expect(await agent.exited).toEqual({ code: null, signal: "SIGKILL" });
    // New turns on the dead server fail at once with the same reason.
    expect((await turn(agent, s, "hello").done).outcome).toBe("failed");
    await agent.stop(); // still fine after a crash

    const fresh = await h.start();
    expect(await fresh.hasSession(s)).toBe(true); // sessions live on disk, across restarts
    const again = turn(fresh, s, "ECHO: back again");
    expect(await again.done).toEqual({ outcome: "completed" });
    expect(again.text()).toBe("back again");
    await fresh.stop();
  }, SLOW_TEST);

  test("stop() leaves no process behind: not the server, its group, or a tool's background job", async () => {
    const agent = await h.start();
    const s = await agent.createSession("bg");
    const pidFile = join(h.directory, "bg.pid");
    const r = await turn(agent, s, `TOOLCMD: nohup sleep 300 >/dev/null 2>&1 & echo $! > ${pidFile}`).done;
    expect(r).toEqual({ outcome: "completed" });
    const bg = Number(readFileSync(pidFile, "utf8").trim());
    expect(pidAlive(bg)).toBe(true);
    const running = turn(agent, s, "SLOW please");
    await withTimeout(running.firstText, 60_000, "slow answer starts");
    await agent.stop({ timeoutMs: 5_000 });
    expect(pidAlive(agent.pid)).toBe(false);
    expect(groupExists(agent.pid)).toBe(false);
    await waitUntil(() => !pidAlive(bg), 5_000, "the background job is gone");
    expect(await running.done).toEqual({ outcome: "failed", reason: "OpenCode was stopped" });
    await agent.stop(); // idempotent
    expect(await agent.exited).toMatchObject({ signal: "SIGTERM" });
  }, SLOW_TEST);

  test("a server's password is masked while it runs and forgotten once it stopped", async () => {
    const agent = await h.start();
    const password = readFileSync(`/proc/${agent.pid}/environ`, "utf8")
      .split("\0")
      .find((v) => v.startsWith("OPENCODE_SERVER_PASSWORD="))!
      .slice("OPENCODE_SERVER_PASSWORD=".length);
    expect(password.length).toBeGreaterThan(8);
    expect(redact(`x ${password} y`)).toBe("x **** y");
    await agent.stop();
    // The redaction set holds only what can still leak: it does not grow with every restart.
    expect(redact(`x ${password} y`)).toBe(`x ${password} y`);
  }, SLOW_TEST);
});

describe("unattended use", () => {
  let h: Harness;
  afterAll(async () => {
    await h?.close();
  }, SLOW_TEST);

  test("a permission request is refused at once instead of stalling the turn", async () => {
    h = await harness();
    h.env.OPENCODE_CONFIG_CONTENT = JSON.stringify({ ...stubOpencodeConfig(h.stub.url), permission: { bash: "ask" } });
    const agent = await h.start();
    const s = await agent.createSession("permission");
    const marker = join(h.directory, "should-not-exist");
    const t = turn(agent, s, `TOOLCMD: touch ${marker}`, 60_000);
    const r = await withTimeout(t.done, 30_000, "turn ends without waiting for the inactivity timeout");
    expect(r.outcome === "failed" ? r.reason : "").not.toContain("no agent activity");
    expect(existsSync(marker)).toBe(false);
    expect(h.lines.some((l) => l.includes("asked for a permission nobody can grant here"))).toBe(true);
    // The session goes on.
    const next = turn(agent, s, "ECHO: still here");
    expect(await next.done).toEqual({ outcome: "completed" });
    expect(next.text()).toBe("still here");
  }, SLOW_TEST);
});
