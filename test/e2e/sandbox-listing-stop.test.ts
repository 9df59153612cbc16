// Stopping while the sandboxed `opencode models` is still being set up leaves no process
// behind. Found by the start-up benchmark: SIGTERM to `orchestrate` left a `bwrap` alive with
// ppid 1 and no children — the init of the listing's pid namespace, waiting forever for a
// parent that was gone (see test/support/held-bwrap.ts, which holds bwrap in that window).
// The worker's stop must end the listing's whole process group and wait for it; what is left
// when the command ends is stopped before the process exits.
import { afterEach, describe, expect, test } from "bun:test";
import { detectSandbox } from "../../src/agent/sandbox/index.ts";
import { processesWithEnv } from "../../src/util/process-group.ts";
import { CLI_TARGETS } from "../support/cli.ts";
import { heldBwrap, innerPid, type HeldBwrap } from "../support/held-bwrap.ts";
import { cleanupProcesses, configPath, startOrchestrate, writeConfig, type Orchestrator } from "./orchestrate-support.ts";
import { alive, startDev, stopAll, useWorld } from "./dev-support.ts";

const world = useWorld();
const TEST_TIMEOUT = 120_000;
const held: HeldBwrap[] = [];

afterEach(async () => {
  for (const h of held.splice(0)) h.release();
  await cleanupProcesses();
  await stopAll();
});

/** A held bwrap first on the world's PATH; its init is killed after the test whatever happens. */
function holdingBwrap(): { path: string; initPid: Promise<number> } {
  const h = heldBwrap();
  held.push(h);
  return { path: `${h.dir}:${world.env.PATH}`, initPid: h.initPid };
}

/** Processes started with this world's environment (all a CLI started carry it), still running. */
const leftovers = () => processesWithEnv("XDG_STATE_HOME", world.env.XDG_STATE_HOME!);

describe.skipIf(!detectSandbox().ok)("a stop during the sandboxed model listing's set-up", () => {
  for (const target of CLI_TARGETS) {
    test(`dev: SIGTERM ends the listing with the worker's stop, and nothing of it outlives dev (${target})`, async () => {
      const bwrap = holdingBwrap();
      const w = await world.addWorker({ approve: true });
      const dev = startDev(target, world, { cwd: world.project(), token: w.token, env: { PATH: bwrap.path, WORKER_SANDBOX: "on" } });
      const initPid = await bwrap.initPid;
      await dev.waitFor(/\bonline\b/, { stream: "stderr", timeoutMs: 30_000 });
      expect(innerPid(initPid)).toBe(1);

      dev.kill("SIGTERM");
      expect((await dev.exited).code).toBe(0);
      expect(alive(initPid)).toBe(false);
      expect(leftovers()).toEqual([]);
      // The worker's own stop ended it; the exit's last sweep found nothing.
      expect(dev.stderr).not.toContain("still running at exit");
    }, TEST_TIMEOUT);
  }

  test("orchestrate, two workers: SIGTERM during the set-up of their listing leaves nothing behind", async () => {
    const bwrap = holdingBwrap();
    const workers = await Promise.all(
      ["a", "b"].map(async (name) => {
        const w = await world.addWorker({ approve: true, name });
        return { name, token: w.token, working_directory: world.project(), convex_url: world.backend.url };
      }),
    );
    const config = configPath();
    writeConfig(config, { workers });
    const orch: Orchestrator = await startOrchestrate({ target: "binary", config, env: { ...world.env, PATH: bwrap.path } });
    const initPid = await bwrap.initPid;
    await orch.waitForStatus((s) => s.workers.every((x) => x.state === "ready"), "both workers online");
    expect(innerPid(initPid)).toBe(1);

    orch.proc.kill("SIGTERM");
    expect((await orch.proc.exited).code).toBe(0);
    expect(alive(initPid)).toBe(false);
    expect(leftovers()).toEqual([]);
    expect(orch.proc.stderr).not.toContain("still running at exit");
  }, TEST_TIMEOUT);
});
