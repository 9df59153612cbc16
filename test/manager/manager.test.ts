// The manager in-process against the embedded backend (the real convex/ functions): reload by
// diff reports each worker once, a new token under the same name is a change, a revoked worker
// is not restarted, and a transient failure is retried with capped growing delays. No OpenCode: no
// prompt is sent, so the agent starter is never called.
import { describe, expect, test } from "bun:test";
import type { AdminClient } from "../../src/backend/admin-client.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { DEFAULTS, type OrchestratorConfig, type WorkerConfig } from "../../src/config/types.ts";
import { createManager, type Manager } from "../../src/manager/manager.ts";
import { mutationGeneric } from "convex/server";
import * as realWorkers from "../../convex/workers.ts";
import { startLocalBackend, type LocalBackend } from "../../src/local-backend/backend.ts";
import { useLocalBackend } from "../support/local-backend.ts";
import { modules, schema } from "../../src/local-backend/modules.ts";
import { createLogger } from "../../src/util/log.ts";
import type { StartAgent } from "../../src/worker/agent-types.ts";
import { tempDir } from "../support/tmp.ts";

let backend: LocalBackend;
let admin: AdminClient;
const lines: string[] = [];
const log = createLogger({ level: "debug", format: "json", sink: (l) => lines.push(l) });
const noAgent: StartAgent = async () => {
  throw new Error("no OpenCode in these tests");
};

useLocalBackend((b, a) => ((backend = b), (admin = a)));

async function worker(name: string, o: { url?: string; approve?: boolean } = {}): Promise<WorkerConfig> {
  const r = await admin.addWorker("manager-tests", name);
  if (o.approve !== false) await admin.approve(r.workerId);
  return {
    name,
    token: WorkerToken.parse(r.token)!,
    workingDirectory: tempDir("w-"),
    convexUrl: o.url ?? backend.url,
    maxConcurrentSessions: 2,
    opencodePath: null,
    agentIdleTimeoutMs: DEFAULTS.agentIdleTimeoutMs,
    turnInactivityTimeoutMs: DEFAULTS.turnInactivityTimeoutMs,
    heartbeatIntervalMs: 5_000,
    origin: `workers[?]`,
  };
}

function config(workers: WorkerConfig[]): OrchestratorConfig {
  return { source: { kind: "file", path: "/nowhere/workers.json" }, workers, shutdownTimeoutMs: 5_000, statusAddress: null, warnings: [], rejected: [] };
}

async function until(m: Manager, pred: (states: Record<string, string>) => boolean, what: string): Promise<Record<string, string>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const states = Object.fromEntries(m.snapshots().map((s) => [s.name, s.state]));
    if (pred(states)) return states;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(states)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("manager", () => {
  test("reload: added, removed, changed (settings, name, new token under the same name) and unchanged, each reported once", async () => {
    const [a, b, c, d, e] = await Promise.all(["m-a", "m-b", "m-c", "m-d", "m-e"].map((n) => worker(n)));
    const m = createManager({ config: config([a!, b!, c!, d!]), log, version: "test", startAgent: noAgent });
    try {
      m.start();
      await until(m, (s) => Object.values(s).length === 4 && Object.values(s).every((x) => x === "ready"), "four ready");
      const fresh = await worker("m-d-new");
      const next = config([
        a!, // unchanged
        { ...c!, maxConcurrentSessions: 3 }, // changed setting
        { ...fresh, name: "m-d" }, // same name, token of another worker id: a new token
        e!, // added
        // b removed
      ]);
      const r = m.reload(next);
      expect(r).toMatchObject({ ok: true, added: ["m-e"], removed: ["m-b"], changed: ["m-c", "m-d"], unchanged: ["m-a"] });
      const states = await until(
        m,
        (s) => ["m-a", "m-c", "m-d", "m-e"].every((n) => s[n] === "ready") && s["m-b"] === undefined,
        "reload applied",
      );
      expect(Object.keys(states).sort()).toEqual(["m-a", "m-c", "m-d", "m-e"]);
      expect(m.snapshots().find((s) => s.name === "m-d")!.workerId).toBe(fresh.token.workerId);
      expect(m.snapshots().find((s) => s.name === "m-c")!.restarts).toBe(0);

      // Renaming keeps the token: the same worker, changed.
      const renamed = m.reload(config([a!, { ...c!, maxConcurrentSessions: 3, name: "m-c2" }, { ...fresh, name: "m-d" }, e!]));
      expect(renamed).toMatchObject({ added: [], removed: [], changed: ["m-c2"] });
      expect(renamed.unchanged.sort()).toEqual(["m-a", "m-d", "m-e"]);
      expect(m.reloads).toEqual({ ok: 2, failed: 0 });
    } finally {
      await m.stop("test over");
    }
  }, 60_000);

  test("a revoked worker is needs_reauth and is never restarted", async () => {
    const revoked = await worker("m-revoked");
    const m = createManager({ config: config([revoked]), log, version: "test", startAgent: noAgent });
    try {
      m.start();
      await until(m, (s) => s["m-revoked"] === "ready", "ready");
      await admin.revoke(revoked.token.workerId);
      await until(m, (s) => s["m-revoked"] === "needs_reauth", "needs_reauth");
      await new Promise((r) => setTimeout(r, 1_500)); // past a first restart delay
      const snap = m.snapshots()[0]!;
      expect([snap.state, snap.restarts, snap.nextRestartAt, snap.errorClass]).toEqual(["needs_reauth", 0, null, "auth"]);
      expect(snap.lastError).toContain("revoked");
      expect(m.allUnrecoverable()).toBe(true);
    } finally {
      await m.stop("test over");
    }
  }, 60_000);

  test("a transient failure is retried with exponential delays up to the cap, shown as errored meanwhile", async () => {
    // A backend whose workers:register always fails with a plain error (transient).
    const failing = await startLocalBackend({
      sweepIntervalMs: 0,
      schema,
      modules: {
        ...modules,
        "convex/workers.ts": async () => ({
          ...realWorkers,
          register: mutationGeneric({
            handler: async () => {
              throw new Error("not today");
            },
          }),
        }),
      },
    });
    const w = await worker("m-flaky", { url: failing.url, approve: false });
    const start = lines.length;
    const m = createManager({
      config: config([w]),
      log,
      version: "test",
      startAgent: noAgent,
      backoff: { initialMs: 100, maxMs: 400, factor: 2, jitter: 0 },
    });
    try {
      m.start();
      const restarts = () =>
        lines
          .slice(start)
          .map((l) => JSON.parse(l))
          .filter((l) => l.worker === "m-flaky" && /^restarting in/.test(l.msg));
      const deadline = Date.now() + 20_000;
      while (restarts().length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(restarts().slice(0, 5).map((l) => [l.msg, l.attempt])).toEqual([
        ["restarting in 0.1 s", 1],
        ["restarting in 0.2 s", 2],
        ["restarting in 0.4 s", 3],
        ["restarting in 0.4 s", 4],
        ["restarting in 0.4 s", 5],
      ]);
      expect(restarts()[0].lastError).toBe("could not register: not today");
      const snap = m.snapshots()[0]!;
      expect(snap.state).toBe("errored");
      expect(snap.errorClass).toBe("transient");
      expect(snap.lastError).toBe("could not register: not today");
      expect(snap.restarts).toBeGreaterThanOrEqual(4);
      expect(m.allUnrecoverable()).toBe(false);
    } finally {
      await m.stop("test over");
      await failing.stop();
    }
  }, 60_000);
});
