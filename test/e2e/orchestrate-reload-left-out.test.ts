// An entry left out at start (its folder is missing) must not hold every later reload
// hostage: an edit elsewhere is applied while that entry stays out; breaking a running
// worker is still rejected (the last good config keeps running); fixing the left-out entry
// starts it.
import { expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { configPath, startOrchestrate, writeConfig, type WorkerEntry, useOrchestrateWorld } from "./orchestrate-support.ts";

const world = useOrchestrateWorld();

test("reload with an entry that was left out at start", async () => {
  const good = await world.addWorker({ name: "good", approve: true });
  const late = await world.addWorker({ name: "late", approve: true });
  const extra = await world.addWorker({ name: "extra", approve: true });
  const url = world.backend.url;
  const missing = join(world.project(), "not-yet");
  const entries: Record<string, WorkerEntry> = {
    good: { name: "good", token: good.token, working_directory: world.project(), convex_url: url },
    late: { name: "late", token: late.token, working_directory: missing, convex_url: url },
    extra: { name: "extra", token: extra.token, working_directory: world.project(), convex_url: url },
  };
  const cfg = configPath();
  writeConfig(cfg, { workers: [entries.good!, entries.late!] });
  const orch = await startOrchestrate({ target: "binary", config: cfg, env: world.env });
  const state = (s: Awaited<ReturnType<typeof orch.status>>, name: string) => s.workers.find((w) => w.name === name)?.state;
  await orch.waitForStatus((s) => state(s, "good") === "ready" && state(s, "late") === "errored", "good ready, late left out");

  // An edit elsewhere while "late" is still broken: applied.
  writeConfig(cfg, { workers: [entries.good!, entries.late!, entries.extra!] });
  const applied = await orch.waitForStatus((s) => s.lastReload?.ok === true, "reload applied");
  expect(applied.lastReload!.added).toEqual(["extra"]);
  await orch.waitForStatus((s) => state(s, "extra") === "ready" && state(s, "late") === "errored", "extra ready, late still out");

  // Breaking a running worker: rejected, everything keeps running.
  writeConfig(cfg, { workers: [{ ...entries.good!, working_directory: join(missing, "gone") }, entries.late!, entries.extra!] });
  const rejected = await orch.waitForStatus((s) => s.lastReload?.ok === false, "reload rejected");
  expect(rejected.lastReload!.errors!.join("\n")).toContain("working_directory");
  expect(state(rejected, "good")).toBe("ready");

  // Fixing the left-out entry starts it.
  mkdirSync(missing);
  writeConfig(cfg, { workers: [entries.good!, entries.late!, entries.extra!] });
  await orch.waitForStatus((s) => s.lastReload?.ok === true && state(s, "late") === "ready", "late started once fixed");
}, 120_000);
