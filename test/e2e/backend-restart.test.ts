// The backend restarts without its data while a worker runs and a chat waits (issue 8, items 2
// and 4), with real processes: a `backend` process killed and started fresh on the same port,
// `dev` / `orchestrate` and `chat` as the compiled binary, a real OpenCode on the stub model.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connectAdmin } from "../../src/backend/admin-client.ts";
import { REPO, startCli } from "../support/cli.ts";
import { opencodeTestEnv } from "../support/opencode-env.ts";
import type { Running } from "../support/proc.ts";
import { startStubModel, type StubModel } from "../support/stub-model.ts";
import { tempDir } from "../support/tmp.ts";
import { serviceUnit, startBackendProcess, systemdRestarts, type BackendProcess } from "./backend-process.ts";
import { cleanupProcesses, configPath, reapLater, startOrchestrate, writeConfig } from "./orchestrate-support.ts";

let stub: StubModel;
let backend: BackendProcess;
let env: Record<string, string>;
const running: Running[] = [];
const unit = serviceUnit(readFileSync(join(REPO, "docs/service.md"), "utf8"));

beforeAll(async () => {
  stub = await startStubModel({ slowChunks: 200, slowChunkDelayMs: 200 });
  env = { ...opencodeTestEnv(stub.url, { root: tempDir("restart-home-") }), NO_COLOR: "1" };
});

afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.kill("SIGKILL");
    for (const m of p.stderr.matchAll(/OpenCode started pid=(\d+)/g)) reapLater(Number(m[1]));
  }
  await cleanupProcesses();
  await backend?.stop();
});

afterAll(async () => {
  await stub.stop();
});

async function approvedWorker(name: string) {
  const admin = connectAdmin(backend.url, backend.adminKey);
  try {
    const w = await admin.addWorker("restart-box", name);
    await admin.approve(w.workerId);
    return w;
  } finally {
    await admin.close();
  }
}

function start(args: string[], extra: Record<string, string> = {}, cwd?: string): Running {
  const p = startCli("binary", args, { env: { ...env, CONVEX_URL: backend.url, ...extra }, cwd });
  running.push(p);
  return p;
}

test("the unit in docs/service.md restarts on failure but never on 78", () => {
  expect(unit.execStart).toContain("orchestrate");
  expect(systemdRestarts(unit, 1)).toBe(true);
  expect(systemdRestarts(unit, 78)).toBe(false);
});

test("backend restarted without its data: the waiting chat fails naming the lost answer; dev exits 78, which the unit does not restart", async () => {
  backend = await startBackendProcess();
  const w = await approvedWorker("restart-dev");
  const cwd = tempDir("restart-project-");
  const dev = start(["dev"], { WORKER_TOKEN: w.token }, cwd);
  await dev.waitFor(/\bonline\b/, { stream: "stderr", timeoutMs: 60_000 });
  const chat = start(["chat", "--worker", "restart-dev", "--new", "SLOW until the backend goes"], { CONVEX_ADMIN_KEY: backend.adminKey });
  await chat.waitFor(/slow 1\. /, { stream: "stdout", timeoutMs: 60_000 });

  await backend.restartFresh();

  const chatEnd = await chat.exited;
  expect(chatEnd.code).toBe(1);
  expect(chat.stderr).toContain("the answer you are waiting for is gone: the backend no longer has it");
  expect(chat.stdout).not.toContain("Hello from the stub model"); // nothing but its own answer's start

  const devEnd = await dev.exited;
  expect(dev.stderr).toContain("no worker can run");
  expect(devEnd.code).toBe(78);
  expect(systemdRestarts(unit, devEnd.code!)).toBe(false);
}, 120_000);

test("backend restarted without its data: orchestrate stays up and waits for a new token instead of exiting into a restart loop", async () => {
  backend = await startBackendProcess();
  const w = await approvedWorker("restart-orch");
  const cfg = configPath();
  const project = tempDir("restart-project-");
  writeConfig(cfg, { workers: [{ name: "api", token: w.token, working_directory: project, convex_url: backend.url }] });
  const orch = await startOrchestrate({ target: "binary", config: cfg, env: { ...env, CONVEX_URL: backend.url } });
  await orch.waitForStatus((s) => s.workers[0]?.state === "ready", "worker ready");

  await backend.restartFresh();

  await orch.waitForLog((l) => /^waiting for a config change/.test(l.msg), "the wait notice", 60_000);
  const health = await orch.get("/healthz");
  expect(health.code).toBe(503);
  expect(JSON.parse(health.body).problems[0]).toMatch(/^api: needs_reauth/);
  await Bun.sleep(1_000);
  expect(orch.proc.child.exitCode).toBeNull();

  // The fix a person makes: a token from the new backend, saved in workers.json.
  const fresh = await approvedWorker("restart-orch");
  writeConfig(cfg, { workers: [{ name: "api", token: fresh.token, working_directory: project, convex_url: backend.url }] });
  await orch.waitForStatus((s) => s.workers[0]?.state === "ready" && s.workers[0]?.workerId === fresh.workerId, "worker ready with the new token");

  orch.proc.kill("SIGTERM");
  const end = await orch.proc.exited;
  expect(end.code).toBe(0);
}, 120_000);
