// Issue 8 item 3 through the real orchestrator: a hot-reload edit that points a token_file at
// a FIFO or at /dev/zero is rejected like any bad edit, while the running worker, the status
// endpoint and signal handling carry on (a blocking open froze all three before).
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { configPath, startOrchestrate, writeConfig, type WorkerEntry, useOrchestrateWorld } from "../e2e/orchestrate-support.ts";

const world = useOrchestrateWorld();

describe("orchestrate hot reload onto hostile files", () => {
  test("token_file → FIFO, then → /dev/zero: both rejected, status keeps answering, SIGTERM stops it", async () => {
    const steady = await world.addWorker({ name: "steady", approve: true });
    const cfg = configPath();
    const fifo = join(dirname(cfg), "piped.token");
    execFileSync("mkfifo", [fifo]);
    const url = world.backend.url;
    const steadyEntry: WorkerEntry = { name: "steady", token: steady.token, working_directory: world.project(), convex_url: url, heartbeat_interval: 1 };
    writeConfig(cfg, { workers: [steadyEntry] });
    const orch = await startOrchestrate({ target: "binary", config: cfg, env: world.env });
    await orch.waitForStatus((s) => s.workers[0]?.state === "ready", "steady ready");

    writeConfig(cfg, { workers: [steadyEntry, { name: "piped", token_file: fifo, working_directory: world.project(), convex_url: url }] });
    const first = await orch.waitForStatus((s) => s.reloads.failed === 1, "the FIFO edit rejected", 20_000);
    expect(first.lastReload!.errors!.join("\n")).toContain(`"${fifo}" is a named pipe (FIFO), not a token file`);
    expect(first.workers.map((w) => `${w.name}:${w.state}`)).toEqual(["steady:ready"]);

    writeConfig(cfg, { workers: [steadyEntry, { name: "zero", token_file: "/dev/zero", working_directory: world.project(), convex_url: url }] });
    const second = await orch.waitForStatus((s) => s.reloads.failed === 2, "the /dev/zero edit rejected", 20_000);
    expect(second.lastReload!.errors!.join("\n")).toContain('"/dev/zero" is a device, not a token file');
    expect(second.workers.map((w) => `${w.name}:${w.state}`)).toEqual(["steady:ready"]);

    orch.proc.kill("SIGTERM");
    const exit = await orch.proc.exited;
    expect(exit.code).toBe(0);
  });
});
