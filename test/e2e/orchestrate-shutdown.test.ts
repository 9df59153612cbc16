// Shutdown through the real CLI: the first signal (SIGINT or SIGTERM) drains (the running answer finishes, new
// prompts wait, the backend shows `draining`, a duplicate within 500 ms counts once), the second
// interrupts the running answer with a reason, and nothing of ours is left running. After a
// SIGKILL mid-answer, the next start stops the OpenCode server left behind and the answer ends
// instead of staying `running`.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { CliTarget } from "../support/cli.ts";
import { startWorld, type World } from "../support/e2e.ts";
import { slowAnswerChunks } from "../support/stub-model.ts";
import {
  assertNoSecrets,
  cleanupProcesses,
  configPath,
  pidAlive,
  reapLater,
  sleep,
  startOrchestrate,
  waitUntil,
  writeConfig,
} from "./orchestrate-support.ts";

const SLOW_CHUNKS = 20;
let world: World;
beforeAll(async () => {
  // A SLOW answer streams for about 6 s.
  world = await startWorld({ stub: { slowChunks: SLOW_CHUNKS, slowChunkDelayMs: 300 } });
});
afterEach(cleanupProcesses);
afterAll(async () => {
  await cleanupProcesses();
  await world?.stop();
});

/** OpenCode servers this HOME's orchestrators recorded and have not removed. */
function agentRecords(): string[] {
  const dir = join(world.env.XDG_STATE_HOME!, "opencode-orchestrator", "agents");
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
}

/** One approved worker in workers.json, `orchestrate` started, a SLOW answer streaming. */
async function runningAnswer(name: string, target: CliTarget, shutdownTimeout = 60, extra: { sandbox?: "auto" | "on" | "off" } = {}) {
  const w = await world.addWorker({ name, approve: true });
  const cfg = configPath();
  writeConfig(cfg, {
    shutdown_timeout: shutdownTimeout,
    workers: [{ name, token: w.token, working_directory: world.project(), convex_url: world.backend.url, heartbeat_interval: 1, ...extra }],
  });
  const orch = await startOrchestrate({ target, config: cfg, env: world.env });
  await orch.waitForStatus((s) => s.workers[0]?.state === "ready", `${name} ready`);
  const session = await world.admin.createSession(w.workerId);
  const slow = await world.admin.send(session.sessionId, "SLOW");
  await world.waitForMessage(slow.messageId, (m) => m.status === "running" && m.text.length > 0, 60_000);
  const pid = (await orch.status()).workers[0]!.opencodePid!;
  expect(pid).toBeGreaterThan(1);
  expect(pidAlive(pid)).toBe(true);
  return { w, cfg, orch, session, slow, pid };
}

describe("orchestrate shutdown", () => {
  test("1st SIGINT drains: the running answer completes, new prompts wait, exit 0, nothing left (node bundle)", async () => {
    const { w, orch, session, slow, pid } = await runningAnswer("drainer", "node");
    // Ctrl+C, forwarded twice within 500 ms (as npm/bun do): counts as one, so it still drains.
    orch.proc.kill("SIGINT");
    await sleep(50);
    orch.proc.kill("SIGINT");
    const draining = await orch.waitForStatus((s) => s.workers[0]?.state === "draining", "draining");
    expect(draining.shuttingDown).toBe(true);
    expect((await orch.get("/healthz")).code).toBe(503);
    await waitUntil(async () => (await world.admin.list()).find((x) => x.workerId === w.workerId)?.status === "draining", "backend shows draining");
    // A prompt sent now is not taken.
    const late = await world.admin.send(session.sessionId, "ECHO:too late");

    expect((await orch.proc.exited).code).toBe(0);
    const done = await world.admin.message(slow.messageId);
    expect(done?.status).toBe("completed");
    expect(done?.text).toBe(slowAnswerChunks(SLOW_CHUNKS).join(""));
    expect((await world.admin.message(late.messageId))?.status).toBe("queued");
    expect(orch.logs().some((l) => /again: interrupting/.test(l.msg))).toBe(false);
    expect(pidAlive(pid)).toBe(false);
    expect(agentRecords()).toEqual([]);
    expect((await world.admin.list()).find((x) => x.workerId === w.workerId)?.status).toBe("offline");
    assertNoSecrets("stderr", orch.proc.stderr, [w.token]);
  }, 120_000);

  test("2nd SIGTERM interrupts the running answer with a reason; exit 0, nothing left", async () => {
    const { w, orch, slow, pid } = await runningAnswer("interrupted", "binary");
    orch.proc.kill("SIGTERM");
    await orch.waitForLog((l) => /^SIGTERM: draining/.test(l.msg), "drain notice");
    await sleep(700); // past the duplicate window
    orch.proc.kill("SIGTERM");
    expect((await orch.proc.exited).code).toBe(0);
    expect(orch.logs().some((l) => /^SIGTERM again: interrupting running answers/.test(l.msg))).toBe(true);
    const m = await world.admin.message(slow.messageId);
    expect(m?.status).toBe("interrupted");
    expect(m?.reason).toBe("the worker was stopped before the answer finished");
    expect(m!.text.length).toBeGreaterThan(0);
    expect(m!.text.length).toBeLessThan(slowAnswerChunks(SLOW_CHUNKS).join("").length);
    expect(pidAlive(pid)).toBe(false);
    expect(agentRecords()).toEqual([]);
    expect((await world.admin.list()).find((x) => x.workerId === w.workerId)?.status).toBe("offline");
  }, 120_000);

  test("one SIGTERM and a running answer past shutdown_timeout: interrupted at the deadline, with why", async () => {
    const { orch, slow, pid } = await runningAnswer("deadline", "binary", 1);
    orch.proc.kill("SIGTERM");
    expect((await orch.proc.exited).code).toBe(0);
    expect(orch.logs().some((l) => l.level === "warn" && /^drain deadline \(1 s\) reached: interrupting running answers$/.test(l.msg))).toBe(true);
    const m = await world.admin.message(slow.messageId);
    expect(m?.status).toBe("interrupted");
    expect(m?.reason).toBe("the worker shut down before the answer finished (drain deadline reached)");
    expect(pidAlive(pid)).toBe(false);
  }, 120_000);

  test("3rd signal exits at once even when stopping hangs (backend gone), and kills OpenCode", async () => {
    const { orch, pid } = await runningAnswer("impatient", "binary");
    await world.backend.stopNetwork(); // writes now hang: the interrupted answer cannot be recorded
    try {
      orch.proc.kill("SIGTERM");
      await orch.waitForLog((l) => /^SIGTERM: draining/.test(l.msg), "drain notice");
      await sleep(700);
      orch.proc.kill("SIGTERM");
      await orch.waitForLog((l) => /^SIGTERM again/.test(l.msg), "interrupt notice");
      await sleep(700);
      expect(orch.proc.child.exitCode).toBeNull(); // still stuck on the backend
      orch.proc.kill("SIGTERM");
      const exit = await orch.proc.exited;
      expect(exit.code).toBe(1);
      const last = orch.logs().at(-1)!; // JSON to the last line
      expect([last.level, last.msg]).toEqual(["error", "SIGTERM received a third time: exiting now (killed 1 child process)."]);
      await waitUntil(() => !pidAlive(pid), "OpenCode killed", 5_000);
    } finally {
      await world.backend.startNetwork();
    }
  }, 120_000);

  test("after a SIGKILL mid-answer, the next start stops the leftover OpenCode and the answer is not left running", async () => {
    // Unsandboxed: a sandboxed OpenCode dies with its orchestrator (bwrap --die-with-parent; test/e2e/sandbox-orchestrate.test.ts).
    const { w, cfg, orch, slow, pid } = await runningAnswer("killed", "binary", 60, { sandbox: "off" });
    reapLater(pid);
    orch.proc.kill("SIGKILL");
    await orch.proc.exited;
    await sleep(500);
    expect(pidAlive(pid)).toBe(true); // its own process group: it outlives the orchestrator
    expect(agentRecords()).toEqual([`${pid}.json`]);

    const next = await startOrchestrate({ target: "binary", config: cfg, env: world.env });
    const reaped = await next.waitForLog((l) => /OpenCode server\(s\) left behind/.test(l.msg), "leftover report");
    expect(reaped.msg).toBe("stopped 1 OpenCode server(s) left behind by an earlier run");
    expect(next.logs().find((l) => /left behind by an earlier run/.test(l.msg) && l.level === "warn")?.pid).toBe(pid);
    expect(pidAlive(pid)).toBe(false);
    await next.waitForStatus((s) => s.workers[0]?.state === "ready", "ready again");
    // It had streamed part of its answer, so it cannot be run again: interrupted, with why.
    const m = await world.waitForMessage(slow.messageId, undefined, 30_000);
    expect(m.status).toBe("interrupted");
    expect(m.reason).toContain("worker restarted while answering");
    const recovered = next.logs().find((l) => l.msg === "recovered messages of an earlier run");
    expect(recovered?.worker).toBe("killed");
    expect(recovered?.interrupted).toBe(1);

    next.proc.kill("SIGTERM");
    expect((await next.proc.exited).code).toBe(0);
    expect(agentRecords()).toEqual([]);
    assertNoSecrets("stderr", next.proc.stderr + orch.proc.stderr, [w.token]);
  }, 120_000);
});
