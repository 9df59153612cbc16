// One worker entry shared by two orchestrators: the newer takes that worker over; the older shows
// it errored (taken_over) with the reason, does not restart it, stays up, and its other worker
// keeps serving. Real CLI processes against the embedded backend.
import { expect, test } from "bun:test";
import { runCli } from "../support/cli.ts";
import { CANNED_ANSWER } from "../support/stub-model.ts";
import { configPath, startOrchestrate, useOrchestrateWorld, writeConfig, type LogLine } from "./orchestrate-support.ts";

const world = useOrchestrateWorld();

const wentOnline = (name: string) => (l: LogLine) => l.worker === name && l.msg === "online";

test("orchestrate: a worker entry another orchestrator took over stops for good with the reason; the other workers are unaffected", async () => {
  const shared = await world.addWorker({ name: "shared", approve: true });
  const own = await world.addWorker({ name: "own", approve: true });
  const entry = (name: string, token: string, dir: string) => ({ name, token, working_directory: dir, convex_url: world.backend.url });
  const sharedDir = world.project();
  const olderCfg = configPath();
  writeConfig(olderCfg, { workers: [entry("shared", shared.token, sharedDir), entry("own", own.token, world.project())] });
  const older = await startOrchestrate({ target: "binary", config: olderCfg, env: world.env });
  await older.waitForStatus((s) => s.workers.every((w) => w.state === "ready"), "both workers ready");

  const newerCfg = configPath();
  writeConfig(newerCfg, { workers: [entry("shared", shared.token, sharedDir)] });
  const newer = await startOrchestrate({ target: "binary", config: newerCfg, env: world.env });
  await newer.waitForStatus((s) => s.workers[0]?.state === "ready", "the newer's worker ready");
  const newerPid = newer.proc.child.pid!;

  const status = await older.waitForStatus((s) => s.workers.find((w) => w.name === "shared")?.state === "errored", "shared errored in the older");
  const lost = status.workers.find((w) => w.name === "shared")!;
  expect(lost.errorClass).toBe("taken_over");
  expect(lost.lastError).toMatch(new RegExp(`^taken over: another process \\(pid ${newerPid} on [^)]+\\) registered with this worker's token — stop the other process`));
  expect(lost.nextRestartAt).toBeNull();
  expect(status.workers.find((w) => w.name === "own")?.state).toBe("ready");

  // The older's other worker still serves, and the newer one serves the shared worker.
  for (const w of [own, shared]) {
    const { sessionId } = await world.admin.createSession(w.workerId, `after takeover ${w.name}`);
    const { messageId } = await world.admin.send(sessionId, "Say hello");
    expect(await world.waitForMessage(messageId)).toMatchObject({ status: "completed", text: CANNED_ANSWER });
  }

  // After those answers (a bounded number of events): no restart, one registration each.
  const after = await older.status();
  expect(after.workers.find((w) => w.name === "shared")).toMatchObject({ state: "errored", restarts: 0, nextRestartAt: null });
  expect(older.logs().filter(wentOnline("shared"))).toHaveLength(1);
  expect(older.logs().filter((l) => l.worker === "shared" && /restarting in/.test(l.msg))).toHaveLength(0);
  expect(newer.logs().filter(wentOnline("shared"))).toHaveLength(1);
  expect(older.proc.child.exitCode).toBeNull();

  // `status` for the older config names the state and the reason.
  const cli = await runCli("binary", ["status", "--address", older.address], { env: { ...world.env, OPENCODE_ORCHESTRATOR_CONFIG: olderCfg }, timeoutMs: 30_000 });
  expect(cli.code).toBe(0);
  expect(cli.stdout).toMatch(/shared[^\n]*errored/);
  expect(cli.stdout + cli.stderr).toContain("taken over: another process");

  // The fix: the other process stops, and a reload (SIGHUP) starts the worker here again.
  newer.proc.kill("SIGTERM");
  expect((await newer.proc.exited).code).toBe(0);
  older.proc.kill("SIGHUP");
  await older.waitForStatus((s) => s.workers.find((w) => w.name === "shared")?.state === "ready", "shared ready again after the reload");
  const { sessionId } = await world.admin.createSession(shared.workerId, "back home");
  const { messageId } = await world.admin.send(sessionId, "Say hello");
  expect(await world.waitForMessage(messageId)).toMatchObject({ status: "completed", text: CANNED_ANSWER });
  expect(older.logs().filter(wentOnline("shared"))).toHaveLength(2);
  expect((await older.worker("own"))?.restarts).toBe(0);
}, 150_000);
