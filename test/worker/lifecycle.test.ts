// One worker in-process against the embedded backend (the real convex/ functions), with a
// scripted agent instead of OpenCode: approval, pause/resume, drain, stop during start-up, an
// agent that fails, and what a failing backend does to a running turn.
import { describe, expect, test } from "bun:test";
import type { AdminClient } from "../../src/backend/admin-client.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { DEFAULTS, type WorkerConfig } from "../../src/config/types.ts";
import type { LocalBackend } from "../../src/local-backend/backend.ts";
import { useLocalBackend } from "../support/local-backend.ts";
import { createLogger } from "../../src/util/log.ts";
import { RuntimeFailure } from "../../src/util/errors.ts";
import type { StartAgent } from "../../src/worker/agent-types.ts";
import type { StateChange } from "../../src/worker/state.ts";
import { startWorker, type Worker, type WorkerOptions } from "../../src/worker/worker.ts";
import { tempDir } from "../support/tmp.ts";
import { scriptedAgent } from "./scripted-agent.ts";
import { until } from "./backend-process.ts";

let backend: LocalBackend;
let admin: AdminClient;

useLocalBackend((b, a) => ((backend = b), (admin = a)));

async function workerConfig(name: string, o: { approve?: boolean; heartbeatIntervalMs?: number } = {}): Promise<WorkerConfig & { workerId: string }> {
  const r = await admin.addWorker("lifecycle-tests", name);
  if (o.approve !== false) await admin.approve(r.workerId);
  return {
    workerId: r.workerId,
    name,
    token: WorkerToken.parse(r.token)!,
    workingDirectory: tempDir("w-"),
    convexUrl: backend.url,
    maxConcurrentSessions: 2,
    opencodePath: null,
    agentIdleTimeoutMs: DEFAULTS.agentIdleTimeoutMs,
    turnInactivityTimeoutMs: DEFAULTS.turnInactivityTimeoutMs,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? 5_000,
    origin: "workers[?]",
  };
}

type Run = {
  worker: Worker;
  changes: StateChange[];
  lines: string[];
  /** Failed heartbeats counted at the moment the worker entered each state. */
  failedBeatsAt: Partial<Record<string, number>>;
};

function run(config: WorkerConfig, startAgent: StartAgent, extra: Partial<WorkerOptions> = {}): Run {
  const changes: StateChange[] = [];
  const lines: string[] = [];
  const failedBeatsAt: Run["failedBeatsAt"] = {};
  const log = createLogger({ level: "debug", format: "json", sink: (l) => lines.push(l) });
  const onChange = (c: StateChange) => {
    changes.push(c);
    failedBeatsAt[c.to] = worker.snapshot().stats.heartbeatsFailed;
  };
  const worker: Worker = startWorker({ config, log, version: "test", startAgent, relayWindowMs: 5, onChange, ...extra });
  return { worker, changes, lines, failedBeatsAt };
}

const stateOf = (w: Worker) => w.snapshot().state;

async function send(workerId: string, text: string): Promise<string> {
  const s = await admin.createSession(workerId);
  return (await admin.send(s.sessionId, text)).messageId;
}

async function finalMessage(messageId: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const m = await admin.message(messageId);
    if (m && m.status !== "queued" && m.status !== "running") return m;
    if (Date.now() > deadline) throw new Error(`message ${messageId} did not finish: ${JSON.stringify(m)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("worker lifecycle", () => {
  test("waits for approval, goes online when approved, answers a prompt, stops offline", async () => {
    const cfg = await workerConfig("l-approve", { approve: false });
    const agent = scriptedAgent();
    const r = run(cfg, agent.start);
    try {
      await until("awaiting approval", () => stateOf(r.worker) === "awaiting_approval");
      expect(r.worker.snapshot().approval).toBe("pending");
      await admin.approve(cfg.workerId);
      await until("ready", () => stateOf(r.worker) === "ready");
      const id = await send(cfg.workerId, "echo: hello there");
      const m = await finalMessage(id);
      expect(m.status).toBe("completed");
      expect(m.text).toBe("hello there");
      await until("turn counted", () => r.worker.snapshot().stats.turns.completed === 1);
    } finally {
      const end = await r.worker.stop();
      expect(end.state).toBe("stopped");
    }
    expect(r.changes.map((c) => c.to)).toEqual(["registering", "awaiting_approval", "registering", "ready", "busy", "ready", "draining", "stopping", "stopped"]);
    expect((await admin.list()).find((w) => w.workerId === cfg.workerId)?.status).toBe("offline");
  });

  test("pause holds new prompts (running ones finish); resume runs them", async () => {
    const cfg = await workerConfig("l-pause");
    const agent = scriptedAgent();
    const r = run(cfg, agent.start);
    try {
      await until("ready", () => stateOf(r.worker) === "ready");
      const first = await send(cfg.workerId, "hold");
      await agent.untilRunning(1);
      await admin.setPaused(cfg.workerId, true);
      await until("paused", () => stateOf(r.worker) === "paused");
      const second = await send(cfg.workerId, "echo: later");
      await until("second queued", () => r.worker.snapshot().turnsQueued === 1);
      agent.release();
      expect((await finalMessage(first)).status).toBe("completed");
      // Paused: the queued prompt stays queued.
      expect(r.worker.snapshot().turnsRunning).toBe(0);
      expect((await admin.message(second))?.status).toBe("queued");
      expect(stateOf(r.worker)).toBe("paused");
      await admin.setPaused(cfg.workerId, false);
      const m = await finalMessage(second);
      expect(m.status).toBe("completed");
      expect(m.text).toBe("later");
      await until("ready again", () => stateOf(r.worker) === "ready");
    } finally {
      await r.worker.stop({ cancel: true });
    }
  });

  test("drain: no new prompts, the running turn finishes, then the worker stops by itself", async () => {
    const cfg = await workerConfig("l-drain");
    const agent = scriptedAgent();
    const r = run(cfg, agent.start);
    await until("ready", () => stateOf(r.worker) === "ready");
    const first = await send(cfg.workerId, "hold");
    await agent.untilRunning(1);
    r.worker.drain();
    expect(stateOf(r.worker)).toBe("draining");
    const second = await send(cfg.workerId, "echo: not now");
    await until("the new prompt seen", () => r.worker.snapshot().turnsQueued === 1);
    agent.release();
    const end = await r.worker.done;
    expect(end).toEqual({ state: "stopped", after: "draining" });
    expect((await admin.message(first))?.status).toBe("completed");
    expect((await admin.message(second))?.status).toBe("queued");
    expect(r.worker.snapshot().stats.turns.completed).toBe(1);
  });

  test("stop during start-up reaches stopped without going online", async () => {
    const cfg = await workerConfig("l-early");
    const agent = scriptedAgent();
    const r = run(cfg, agent.start);
    const end = await r.worker.stop();
    expect(end.state).toBe("stopped");
    expect(r.changes.at(-1)?.to).toBe("stopped");
    expect(r.changes.map((c) => c.to)).not.toContain("ready");
    // A second stop is the same stop.
    expect(await r.worker.stop()).toEqual(end);
    expect(agent.starts).toBe(0);
  });

  test("an agent that cannot start or fails: the message fails with the reason, the worker keeps serving", async () => {
    const cfg = await workerConfig("l-fail");
    const agent = scriptedAgent();
    let broken = true;
    const start: StartAgent = async (o) => {
      if (broken) throw new RuntimeFailure("OpenCode was not found: `opencode` (looked up on PATH) does not exist", { hint: "Install OpenCode" });
      return agent.start(o);
    };
    const r = run(cfg, start);
    try {
      await until("ready", () => stateOf(r.worker) === "ready");
      const a = await finalMessage(await send(cfg.workerId, "echo: x"));
      expect(a.status).toBe("failed");
      expect(a.reason).toContain("OpenCode was not found");
      expect(a.reason).toContain("Install OpenCode");
      broken = false;
      const b = await finalMessage(await send(cfg.workerId, "fail"));
      expect(b.status).toBe("failed");
      expect(b.reason).toBe("scripted failure");
      await until("ready", () => stateOf(r.worker) === "ready");
      expect(r.worker.snapshot().stats.turns).toEqual({ completed: 0, failed: 2, cancelled: 0, interrupted: 0 });
    } finally {
      await r.worker.stop();
    }
  });

  // Issue 8 item 8: three failed heartbeats with a turn running. The worker gives up at once: no
  // more heartbeats, the turn ends `interrupted` (never `completed` without the backend having
  // it), and the worker reaches stopped so its supervisor can start a fresh one.
  for (const when of ["while the agent works", "after the agent completed"] as const) {
    test(`backend gone with a turn running (${when}): errored, no more heartbeats, the turn counted interrupted`, async () => {
      const cfg = await workerConfig(`l-hb-${when === "while the agent works" ? "a" : "b"}`, { heartbeatIntervalMs: 200 });
      const agent = scriptedAgent();
      const r = run(cfg, agent.start, { callTimeoutMs: 500 });
      try {
        await until("ready", () => stateOf(r.worker) === "ready");
        await send(cfg.workerId, "hold");
        await agent.untilRunning(1);
        await backend.stopNetwork();
        if (when === "after the agent completed") agent.release();
        // Before the fix the worker stayed errored for minutes, its turn retrying writes and its
        // heartbeat still failing.
        await until("stopped", () => stateOf(r.worker) === "stopped", 15_000);
        expect(await r.worker.done).toMatchObject({ after: "errored", errorClass: "transient", error: "3 heartbeats in a row failed" });
        const snap = r.worker.snapshot();
        expect(snap.stats.turns.completed).toBe(0);
        expect(snap.stats.turns.interrupted).toBe(1);
        // A failed worker stops heartbeating: its failures were counted when it gave up.
        expect(snap.stats.heartbeatsFailed).toBe(r.failedBeatsAt.errored!);
        expect(snap.stats.heartbeatsFailed).toBeGreaterThanOrEqual(3);
        expect(agent.running).toBe(0);
      } finally {
        await r.worker.stop({ cancel: true });
        await backend.startNetwork();
      }
    });
  }
});
