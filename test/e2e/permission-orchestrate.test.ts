// workers.json's `permission` makes the agent ask before what the owner chose: `orchestrate`
// hands the rules to OpenCode over the user's own config, so a bash command waits for a person
// (`reply`), and runs only once allowed. Real CLI, OpenCode and stub model.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { adminEnv, startChat } from "./dev-support.ts";
import { configPath, startOrchestrate, useOrchestrateWorld, writeConfig } from "./orchestrate-support.ts";

const world = useOrchestrateWorld();

test("permission {bash: ask} in workers.json: the command waits for `reply once`, then runs", async () => {
  const worker = await world.addWorker({ approve: true, name: "asks" });
  const project = world.project();
  const config = configPath();
  const entry = { name: "asks", token: worker.token, working_directory: project, convex_url: world.backend.url, permission: { bash: "ask" } };
  writeConfig(config, JSON.stringify({ workers: [entry] }));
  const orch = await startOrchestrate({ target: "binary", config, env: world.env });
  await orch.waitForStatus((s) => s.workers.some((w) => w.name === "asks" && w.state === "ready"), "the worker ready");

  const marker = join(project, "allowed-by-a-person");
  const c = startChat("binary", world, ["--worker", "asks", "--new", `TOOLCMD: touch ${marker}`]);
  const id = (await c.waitFor(/permission request (req_[a-z0-9]+): bash /, { stream: "stderr", timeoutMs: 60_000 }))[1]!;
  expect(existsSync(marker)).toBe(false);
  const r = await runCli("binary", ["reply", id, "once"], { env: adminEnv(world), timeoutMs: 30_000 });
  expect(r.code).toBe(0);
  expect(await c.exited).toEqual({ code: 0, signal: null });
  expect(existsSync(marker)).toBe(true);
}, 120_000);
