// Stopping while the sandboxed `opencode models` is still being set up leaves no process
// behind. Found by the start-up benchmark: SIGTERM to `orchestrate` left a `bwrap` alive with
// ppid 1 and no children — the init of the listing's pid namespace, blocked forever. bwrap's
// parent clones that init and only then lets it go on (and only once going does the init ask
// to die with its parent); a SIGTERM that ends the parent in between leaves the init waiting
// for a go that never comes, and as a pid-namespace init it ignores SIGTERM
// (containers/bubblewrap#633). Under load the window is hit now and then; here a `bwrap` on
// PATH runs the real one with two of its own options that hold the parent in exactly that
// window (--userns-block-fd waits on a FIFO nobody writes; --info-fd names the init's pid).
import { afterEach, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { detectSandbox } from "../../src/agent/sandbox/index.ts";
import { findOnPath } from "../../src/util/which.ts";
import { CLI_TARGETS } from "../support/cli.ts";
import { start, type Running } from "../support/proc.ts";
import { tempDir } from "../support/tmp.ts";
import { cleanupProcesses, configPath, startOrchestrate, writeConfig, type Orchestrator } from "./orchestrate-support.ts";
import { alive, startDev, stopAll, useWorld } from "./dev-support.ts";

const world = useWorld();
const TEST_TIMEOUT = 120_000;
const held = new Set<number>();

afterEach(async () => {
  // What a failing run left: the held init ignores everything but SIGKILL.
  for (const pid of held) if (alive(pid)) process.kill(pid, "SIGKILL");
  held.clear();
  await cleanupProcesses();
  await stopAll();
});

type HeldBwrap = { path: string; initPid: Promise<number> };

/** A folder with a `bwrap` that holds the model listing's bwrap between clone and go. */
function holdingBwrap(): HeldBwrap {
  const dir = tempDir("held-bwrap-");
  const info = join(dir, "info");
  const hold = join(dir, "hold");
  execFileSync("mkfifo", [info, hold]);
  const script = [
    "#!/bin/sh",
    // The availability probe and `opencode serve` pass through untouched.
    `case " $* " in *" models --verbose "*) exec ${findOnPath("bwrap")} --unshare-user --info-fd 8 --userns-block-fd 9 "$@" 8>${info} 9<>${hold} ;; esac`,
    `exec ${findOnPath("bwrap")} "$@"`,
  ].join("\n");
  writeFileSync(join(dir, "bwrap"), script + "\n");
  chmodSync(join(dir, "bwrap"), 0o755);
  // Reading the FIFO lets the held bwrap open it; it writes the init's pid and keeps waiting.
  const reader: Running = start("cat", [info]);
  const initPid = reader.waitFor(/"child-pid": (\d+)/, { stream: "stdout", timeoutMs: 60_000 }).then((m) => {
    const pid = Number(m[1]);
    held.add(pid);
    return pid;
  });
  return { path: `${dir}:${world.env.PATH}`, initPid };
}

/** Its pid inside its own namespace: 1 for the namespace's init. */
function innerPid(pid: number): number {
  const ns = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]!.trim().split(/\s+/);
  return Number(ns[ns.length - 1]);
}

describe.skipIf(!detectSandbox().ok)("a stop during the sandboxed model listing's set-up", () => {
  for (const target of CLI_TARGETS) {
    test(`dev: SIGTERM leaves no process of the listing (${target})`, async () => {
      const bwrap = holdingBwrap();
      const w = await world.addWorker({ approve: true });
      const dev = startDev(target, world, { cwd: world.project(), token: w.token, env: { PATH: bwrap.path, WORKER_SANDBOX: "on" } });
      const initPid = await bwrap.initPid;
      await dev.waitFor(/\bonline\b/, { stream: "stderr", timeoutMs: 30_000 });
      expect(innerPid(initPid)).toBe(1);

      dev.kill("SIGTERM");
      expect((await dev.exited).code).toBe(0);
      expect(alive(initPid)).toBe(false);
    }, TEST_TIMEOUT);
  }

  test("orchestrate: SIGTERM while two workers share the listing leaves no process of it", async () => {
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
  }, TEST_TIMEOUT);
});
