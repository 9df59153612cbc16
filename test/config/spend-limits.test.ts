// max_turn_cost and max_daily_cost through both config paths: workers.json and dev's .env /
// environment (MAX_TURN_COST, MAX_DAILY_COST); absent = no limit; a bad value is named with the fix.
import { describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadDevConfig } from "../../src/config/dev-config.ts";
import { loadWorkersConfig } from "../../src/config/workers-file.ts";
import { ConfigError } from "../../src/util/errors.ts";
import { tempDir } from "../support/tmp.ts";
import { scenario, token, worker, writeConfig } from "./fixtures/workers.ts";

const devEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, WORKER_TOKEN: token("m1", "w1"), CONVEX_URL: "https://a.convex.cloud", ...extra };
  for (const k of ["WORKER_NAME", "OPENCODE_ORCHESTRATOR_STATUS_ADDRESS", "MAX_TURN_COST", "MAX_DAILY_COST"]) if (!(k in extra)) delete env[k];
  return env;
};

describe("workers.json", () => {
  test("limits in USD per worker; absent means none", async () => {
    const s = scenario();
    writeConfig(s.configPath, { workers: [worker({ max_turn_cost: 2.5, max_daily_cost: 40 }), worker({ token: token("m1", "w2") })] });
    const config = await loadWorkersConfig(s.configPath, { createTemplate: false });
    expect(config.workers.map((w) => [w.maxTurnCostUsd, w.maxDailyCostUsd])).toEqual([
      [2.5, 40],
      [null, null],
    ]);
  });

  test("a negative or non-number limit is refused naming the field, the bounds and an example", async () => {
    const s = scenario();
    writeConfig(s.configPath, { workers: [worker({ max_turn_cost: -1, max_daily_cost: "lots" })] });
    const e = await loadWorkersConfig(s.configPath, { createTemplate: false }).catch((x) => x);
    expect(e).toBeInstanceOf(ConfigError);
    const issues = (e as ConfigError).issues;
    expect(issues.find((i) => i.path === "workers[0].max_turn_cost")).toMatchObject({ fix: "Use an amount in US dollars from 0 to 100000, e.g. 5." });
    expect(issues.find((i) => i.path === "workers[0].max_daily_cost")).toMatchObject({ fix: "Use an amount in US dollars from 0 to 1000000, e.g. 50." });
  });
});

describe("dev", () => {
  test("MAX_TURN_COST and MAX_DAILY_COST from the environment; none by default", async () => {
    const cwd = tempDir("dev-");
    const limited = await loadDevConfig({ cwd, env: devEnv({ MAX_TURN_COST: "0.5", MAX_DAILY_COST: "10" }), interactive: false });
    expect(limited.workers[0]).toMatchObject({ maxTurnCostUsd: 0.5, maxDailyCostUsd: 10 });
    const plain = await loadDevConfig({ cwd, env: devEnv(), interactive: false });
    expect(plain.workers[0]).toMatchObject({ maxTurnCostUsd: null, maxDailyCostUsd: null });
  });

  test("a bad MAX_TURN_COST in .env is named with where it came from and the fix", async () => {
    const cwd = tempDir("dev-");
    writeFileSync(join(cwd, ".env"), "MAX_TURN_COST=five\n", { mode: 0o600 });
    chmodSync(join(cwd, ".env"), 0o600);
    const e = await loadDevConfig({ cwd, env: devEnv(), interactive: false }).catch((x) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).issues).toContainEqual(
      expect.objectContaining({ path: "MAX_TURN_COST", file: join(cwd, ".env"), message: 'is not a number ("five")', fix: "Use an amount in US dollars from 0 to 100000, e.g. 5." }),
    );
  });
});
