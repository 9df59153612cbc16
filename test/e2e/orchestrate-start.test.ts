// `orchestrate` start-up through the real CLI: several workers, some broken. The good ones serve
// prompts; the broken ones are reported (logs, start summary, /status, /healthz, /metrics,
// `status`) and never stop the process; when every worker is broken, exit 1 with each reason.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { join } from "node:path";
import { runCli, startCli, type CliTarget } from "../support/cli.ts";
import { startWorld, type World } from "../support/e2e.ts";
import {
  assertNoSecrets,
  cleanupProcesses,
  configPath,
  metric,
  parseLogLines,
  parsePrometheus,
  pidAlive,
  sleep,
  startOrchestrate,
  waitUntil,
  writeConfig,
} from "./orchestrate-support.ts";

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
// Processes a test started itself (not through startOrchestrate), killed if the test failed early.
const afterThis: (() => void)[] = [];
afterEach(async () => {
  for (const kill of afterThis.splice(0)) kill();
  await cleanupProcesses();
});
afterAll(async () => {
  await cleanupProcesses();
  await world?.stop();
});

/** A loopback port where nothing listens. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A well-formed token for an existing, approved worker, but with a wrong secret. */
function wrongSecret(token: string): string {
  return token.replace(/:secret_.+$/, ":secret_thisIsNotTheRightSecret123");
}

describe("orchestrate start", () => {
  test("good workers serve while a bad token, a missing folder and a pending worker are reported; the process keeps running", async () => {
    const good1 = await world.addWorker({ name: "good-one", approve: true });
    const good2 = await world.addWorker({ name: "good-two", approve: true });
    const stolen = await world.addWorker({ name: "bad-token", approve: true });
    const lost = await world.addWorker({ name: "lost-folder", approve: true });
    const waiting = await world.addWorker({ name: "waiting" });
    const badToken = wrongSecret(stolen.token);
    const tokens = [good1.token, good2.token, stolen.token, badToken, lost.token, waiting.token];
    const url = world.backend.url;
    const cfg = configPath();
    writeConfig(cfg, {
      shutdown_timeout: 20,
      workers: [
        { name: "good-one", token: good1.token, working_directory: world.project(), convex_url: url, heartbeat_interval: 2 },
        { name: "bad-token", token: badToken, working_directory: world.project(), convex_url: url },
        { name: "lost-folder", token: lost.token, working_directory: join(world.project(), "gone"), convex_url: url },
        { name: "good-two", token: good2.token, working_directory: world.project(), convex_url: url, heartbeat_interval: 2 },
        { name: "waiting", token: waiting.token, working_directory: world.project(), convex_url: url },
      ],
    });

    const t0 = Date.now();
    const orch = await startOrchestrate({ target: "binary", config: cfg, env: world.env, args: ["--log-level", "debug"] });
    const summary = await orch.waitForLog((l) => /^5 workers: /.test(l.msg), "start summary");
    console.log(`[measure] 5 workers (3 reachable) settled ${Date.now() - t0} ms after spawn`);
    expect(summary.msg).toBe("5 workers: 2 ready, 1 awaiting approval, 2 failed");
    // The summary names each failed worker and why.
    const failedLines = orch.logs().filter((l) => l.time >= summary.time && l.level === "warn" && /^ {2}\S+: /.test(l.msg));
    expect(failedLines.find((l) => l.msg.startsWith("  bad-token: needs_reauth"))?.msg).toContain("rejected this worker's token");
    expect(failedLines.find((l) => l.msg.startsWith("  lost-folder: errored"))?.msg).toContain("working_directory");

    // The pending worker says exactly how to approve it, on a line carrying its name.
    const approveHint = orch.logs().find((l) => l.worker === "waiting" && /admin approve/.test(l.msg));
    expect(approveHint?.msg).toContain(`opencode-orchestrator admin approve ${waiting.name} (id ${waiting.workerId})`);
    // The bad token gets the fix, not a retry.
    const reauth = orch.logs().find((l) => l.worker === "bad-token" && /needs_reauth/.test(l.msg));
    expect(String(reauth?.reason)).toContain("admin add-worker");
    // The entry whose folder is gone is named with the field and left out.
    expect(orch.logs().some((l) => l.level === "error" && l.worker === "lost-folder" && /working_directory/.test(l.msg))).toBe(true);

    // The good ones serve prompts, at the same time.
    const s1 = await world.admin.createSession(good1.workerId);
    const s2 = await world.admin.createSession(good2.workerId);
    const m1 = await world.admin.send(s1.sessionId, "ECHO:answer from one");
    const m2 = await world.admin.send(s2.sessionId, "ECHO:answer from two");
    const [r1, r2] = await Promise.all([world.waitForMessage(m1.messageId), world.waitForMessage(m2.messageId)]);
    expect([r1.status, r1.text]).toEqual(["completed", "answer from one"]);
    expect([r2.status, r2.text]).toEqual(["completed", "answer from two"]);

    // /status tells the same story.
    const doc = await orch.waitForStatus(
      (s) => s.workers.filter((w) => w.turns.completed === 1 && w.state === "ready").length === 2,
      "both good workers idle after one turn",
    );
    const byName = Object.fromEntries(doc.workers.map((w) => [w.name, w]));
    expect(Object.keys(byName).sort()).toEqual(["bad-token", "good-one", "good-two", "lost-folder", "waiting"]);
    expect(byName["bad-token"]!.state).toBe("needs_reauth");
    expect(byName["bad-token"]!.lastError).toContain("rejected this worker's token");
    expect(byName["bad-token"]!.restarts).toBe(0);
    expect(byName["bad-token"]!.nextRestartAt).toBeNull();
    expect(byName["lost-folder"]!.state).toBe("errored");
    expect(byName["lost-folder"]!.errorClass).toBe("config");
    expect(byName["lost-folder"]!.lastError).toContain("working_directory");
    expect(byName["waiting"]!.state).toBe("awaiting_approval");
    expect(byName["waiting"]!.approval).toBe("pending");
    for (const n of ["good-one", "good-two"]) {
      expect(byName[n]!.backendConnected).toBe(true);
      expect(byName[n]!.opencodePid).toBeGreaterThan(1);
      expect(pidAlive(byName[n]!.opencodePid!)).toBe(true);
      expect(byName[n]!.lastHeartbeatAgeSeconds).not.toBeNull();
      expect(byName[n]!.turns).toEqual({ completed: 1, failed: 0, cancelled: 0, interrupted: 0 });
      expect(byName[n]!.relayBatches).toBeGreaterThan(0);
    }
    expect(doc.config).toBe(cfg);
    expect(doc.shuttingDown).toBe(false);
    expect(doc.pid).toBe(orch.proc.child.pid!);

    // /healthz: 503 with the two broken workers as reasons (the pending one is not a fault).
    const health = await orch.get("/healthz");
    expect(health.code).toBe(503);
    const problems = JSON.parse(health.body).problems as string[];
    expect(problems.length).toBe(2);
    expect(problems.find((p) => p.startsWith("bad-token: needs_reauth"))).toBeDefined();
    expect(problems.find((p) => p.startsWith("lost-folder: errored"))).toBeDefined();

    // /metrics parses and agrees.
    const metricsRes = await orch.get("/metrics");
    expect(metricsRes.code).toBe(200);
    expect(metricsRes.type).toContain("text/plain");
    const m = parsePrometheus(metricsRes.body);
    const P = "opencode_orchestrator_";
    expect(metric(m, P + "workers", { state: "ready" })).toBe(2);
    expect(metric(m, P + "workers", { state: "needs_reauth" })).toBe(1);
    expect(metric(m, P + "workers", { state: "errored" })).toBe(1);
    expect(metric(m, P + "workers", { state: "awaiting_approval" })).toBe(1);
    for (const n of ["good-one", "good-two"]) {
      expect(metric(m, P + "turns_total", { worker: n, outcome: "completed" })).toBe(1);
      expect(metric(m, P + "turns_total", { worker: n, outcome: "failed" })).toBe(0);
      expect(metric(m, P + "backend_connected", { worker: n })).toBe(1);
      expect(metric(m, P + "relay_batches_total", { worker: n })).toBe(byName[n]!.relayBatches);
      expect(metric(m, P + "heartbeat_age_seconds", { worker: n })).toBeGreaterThanOrEqual(0);
    }
    expect(metric(m, P + "worker_restarts_total", { worker: "bad-token" })).toBe(0);
    expect(metric(m, P + "config_reloads_total", { result: "ok" })).toBe(0);
    expect(m.types.get(P + "turns_total")).toBe("counter");

    // `status` prints the table, `status --json` the document.
    const table = await runCli("binary", ["status", "--address", orch.address]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`config ${cfg}`);
    for (const [n, state] of [["good-one", "ready"], ["bad-token", "needs_reauth"], ["lost-folder", "errored"], ["waiting", "awaiting_approval"]]) {
      expect(table.stdout).toMatch(new RegExp(`^${n}\\s+${state}\\s`, "m"));
    }
    // Done/failed/cancelled/interrupted, tokens, cost today/all (the stub's model is free), restarts, OpenCode's pid.
    expect(table.stdout).toMatch(/^good-one\s+ready\s+.*\s1\/0\/0\/0\s+30\s+\$0\.00\/\$0\.00\s+0\s+\d+/m);
    expect(table.stdout).toMatch(new RegExp(`^waiting\\s+awaiting_approval\\s.*approve it: opencode-orchestrator admin approve ${waiting.workerId}$`, "m"));
    const json = await runCli("binary", ["status", "--json", "--address", orch.address]);
    expect(json.code).toBe(0);
    const jdoc = JSON.parse(json.stdout);
    expect(jdoc.workers.map((w: { name: string }) => w.name).sort()).toEqual(Object.keys(byName).sort());
    expect(jdoc.pid).toBe(doc.pid);

    // Approving the pending worker brings it online without a restart.
    await world.admin.approve(waiting.workerId);
    await orch.waitForStatus((s) => s.workers.find((w) => w.name === "waiting")?.state === "ready", "approved worker ready");

    // Still running; nothing served or logged holds a secret.
    expect(orch.proc.child.exitCode).toBeNull();
    for (const path of ["/status", "/healthz", "/metrics", "/nope"]) assertNoSecrets(path, (await orch.get(path)).body, tokens);
    assertNoSecrets("status table", table.stdout + table.stderr, tokens);
    assertNoSecrets("status --json", json.stdout, tokens);

    orch.proc.kill("SIGTERM");
    expect((await orch.proc.exited).code).toBe(0);
    for (const pid of orch.opencodePids) await waitUntil(() => !pidAlive(pid), `OpenCode ${pid} gone`, 15_000);
    assertNoSecrets("orchestrate stderr", orch.proc.stderr, tokens);
    assertNoSecrets("orchestrate stdout", orch.proc.stdout, tokens);
    expect(orch.proc.stdout).toBe(""); // logs go to stderr only

    // Every line is JSON; every line about one worker says which.
    const lines = orch.logs();
    expect(lines.some((l) => l.level === "debug")).toBe(true); // --log-level debug
    for (const l of lines) {
      if (/^state /.test(l.msg) || l.messageId !== undefined || /^turn /.test(l.msg) || /OpenCode/.test(l.msg)) {
        expect({ msg: l.msg, worker: l.worker }).toEqual({ msg: l.msg, worker: expect.any(String) });
      }
    }
    const names = ["good-one", "good-two", "bad-token", "lost-folder", "waiting"];
    for (const n of names) expect(lines.some((l) => l.worker === n)).toBe(true);
    // The worker field is always one of the configured names (or a part of one, like "good-one/opencode").
    for (const l of lines.filter((l) => l.worker !== undefined)) expect(names).toContain(l.worker!.split("/")[0]!);
    expect(lines.filter((l) => l.worker === "good-one" && l.msg === "turn completed").length).toBe(1);
  }, 120_000);

  test("a backend nobody answers at: named as still connecting in the summary, then errored, retried, and it stays errored while retrying", async () => {
    const good = await world.addWorker({ name: "near", approve: true });
    const far = await world.addWorker({ name: "far", approve: true });
    const port = await closedPort();
    const cfg = configPath();
    writeConfig(cfg, {
      workers: [
        { name: "near", token: good.token, working_directory: world.project(), convex_url: world.backend.url },
        { name: "far", token: far.token, working_directory: world.project(), convex_url: `http://127.0.0.1:${port}` },
      ],
    });
    const orch = await startOrchestrate({ target: "binary", config: cfg, env: world.env });
    // The reachable one is not held up by the other.
    await orch.waitForStatus((s) => s.workers.find((w) => w.name === "near")?.state === "ready", "near ready", 5_000);
    const summary = await orch.waitForLog((l) => /^2 workers: /.test(l.msg), "start summary", 20_000);
    expect(summary.msg).toBe("2 workers: 1 ready, 0 awaiting approval, 0 failed, 1 still connecting");
    expect(orch.logs().some((l) => l.msg === `  far: still connecting to http://127.0.0.1:${port}`)).toBe(true);
    // Each attempt gives up after the 30 s call timeout; then it is errored, retried, and stays
    // errored (not "registering") while the retry waits for the backend.
    const failed = await orch.waitForStatus((s) => (s.workers.find((w) => w.name === "far")?.restarts ?? 0) >= 1, "far retried", 45_000);
    const farDoc = failed.workers.find((w) => w.name === "far")!;
    expect(farDoc.state).toBe("errored");
    expect(farDoc.lastError).toStartWith("could not register: ");
    expect(farDoc.backendConnected).toBe(false);
    const health = await orch.get("/healthz");
    expect(health.code).toBe(503);
    expect(JSON.parse(health.body).problems).toEqual([`far: errored — ${farDoc.lastError}`]);
    expect(orch.proc.child.exitCode).toBeNull();
    orch.proc.kill("SIGTERM");
    expect((await orch.proc.exited).code).toBe(0);
  }, 90_000);

  for (const target of ["binary", "node"] as CliTarget[]) {
    test(`every worker unrecoverable → each reason logged, and it waits for a config fix instead of exiting (${target})`, async () => {
      // Backend names are unique per deployment; the config names are what the logs show.
      const stolen = await world.addWorker({ name: `stolen-${target}`, approve: true });
      const revoked = await world.addWorker({ name: `revoked-${target}`, approve: true });
      await world.admin.revoke(revoked.workerId);
      const lost = await world.addWorker({ name: `lost-${target}`, approve: true });
      const url = world.backend.url;
      const cfg = configPath();
      writeConfig(cfg, {
        workers: [
          { name: "stolen", token: wrongSecret(stolen.token), working_directory: world.project(), convex_url: url },
          { name: "revoked", token: revoked.token, working_directory: world.project(), convex_url: url },
          { name: "lost", token: lost.token, working_directory: join(world.project(), "gone"), convex_url: url },
        ],
      });
      // warn level: the reasons are errors and must show; info lines must not.
      // Exiting would only make a service manager restart it into the same state (issue 8, item 4).
      const proc = startCli(
        target,
        ["orchestrate", "--config", cfg, "--log-format", "json", "--log-level", "warn", "--status-address", "127.0.0.1:0"],
        { env: world.env },
      );
      afterThis.push(() => proc.kill("SIGKILL"));
      await proc.waitFor(/"msg":"waiting for a config change/, { stream: "stderr", timeoutMs: 60_000 });
      await sleep(500);
      expect(proc.child.exitCode).toBeNull();
      proc.kill("SIGTERM");
      expect((await proc.exited).code).toBe(0);
      const r = { stderr: proc.stderr };
      const lines = parseLogLines(r.stderr);
      expect(lines.filter((l) => l.level === "info" || l.level === "debug")).toEqual([]);
      const errors = lines.filter((l) => l.level === "error").map((l) => l.msg);
      expect(errors).toContain("no worker can run: every one needs a new token or a config fix");
      const reasons = errors.filter((e) => /^ {2}\S+: /.test(e));
      expect(reasons.find((e) => e.startsWith("  stolen: needs_reauth"))).toContain("rejected this worker's token");
      expect(reasons.find((e) => e.startsWith("  revoked: needs_reauth"))).toContain("revoked");
      expect(reasons.find((e) => e.startsWith("  lost: errored"))).toContain("working_directory");
      assertNoSecrets("stderr", r.stderr, [stolen.token, revoked.token, lost.token]);
    }, 60_000);
  }
});
