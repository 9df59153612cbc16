// Two orchestrators, one status address (issue 8, item 20): the second runs without a status
// endpoint and says so with the fix; `status` for its config then reaches the first one and
// says it is another instance instead of showing that one's workers as these.
import { expect, test } from "bun:test";
import { runCli } from "../support/cli.ts";
import { freePort } from "./backend-process.ts";
import { configPath, startOrchestrate, writeConfig, useOrchestrateWorld } from "./orchestrate-support.ts";

const world = useOrchestrateWorld();

test("the second orchestrator on a taken status_address: its log names the fix, and `status` for its config names the one that answered", async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const configs: string[] = [];
  for (const name of ["first", "second"]) {
    const w = await world.addWorker({ name: `taken-${name}`, approve: true });
    const cfg = configPath();
    writeConfig(cfg, { status_address: address, workers: [{ name, token: w.token, working_directory: world.project(), convex_url: world.backend.url }] });
    configs.push(cfg);
  }
  const first = await startOrchestrate({ target: "binary", config: configs[0]!, env: world.env, args: ["--status-address", address] });
  await first.waitForStatus((s) => s.workers[0]?.state === "ready", "first ready");
  const second = await startOrchestrate({ target: "binary", config: configs[1]!, env: world.env, args: ["--status-address", address], waitForStatus: false });
  const notStarted = await second.waitForLog((l) => l.msg.startsWith("status server not started"), "the second's status error");
  expect(notStarted.msg).toBe(`status server not started: status address ${address} is already in use`);
  expect(String(notStarted.fix)).toContain("status_address");

  const r = await runCli("binary", ["status"], { env: { ...world.env, OPENCODE_ORCHESTRATOR_CONFIG: configs[1]! } });
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`warning: the orchestrator at ${address} runs ${configs[0]}, not ${configs[1]}.`);
  const mine = await runCli("binary", ["status"], { env: { ...world.env, OPENCODE_ORCHESTRATOR_CONFIG: configs[0]! } });
  expect(mine.stderr).toBe("");
}, 90_000);
