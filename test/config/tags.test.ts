// Worker tags in the config: workers.json `tags` and dev's WORKER_TAGS, checked like names,
// deduplicated, bounded; a bad one is one issue naming the field and the fix.
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_TAG_CHARS, MAX_TAGS, REROUTE_AFTER_MS } from "../../convex/lib/constants.ts";
import { loadDevConfig } from "../../src/config/dev-config.ts";
import { loadWorkersConfig } from "../../src/config/workers-file.ts";
import { ConfigError } from "../../src/util/errors.ts";
import { REPO } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";
import { scenario, token, worker, writeConfig } from "./fixtures/workers.ts";

async function configError(p: Promise<unknown>): Promise<ConfigError> {
  const e = await p.catch((x: unknown) => x);
  if (e instanceof ConfigError) return e;
  throw new Error(`expected a ConfigError, got ${String(e)}`);
}

describe("workers.json tags", () => {
  test("are read, trimmed and deduplicated; absent means none", async () => {
    const s = scenario();
    writeConfig(s.configPath, { workers: [worker({ tags: ["api", " linux", "api"] }), worker({ token: token("m1", "w2") })] });
    const config = await loadWorkersConfig(s.configPath, { createTemplate: false });
    expect(config.workers[0]!.tags).toEqual(["api", "linux"]);
    expect(config.workers[1]!.tags).toBeUndefined();
  });

  test("a bad tag or too many are one issue at workers[i].tags with the fix", async () => {
    for (const tags of [["has space"], ["-x"], [""], Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`)]) {
      const s = scenario();
      writeConfig(s.configPath, { workers: [worker({ tags })] });
      const e = await configError(loadWorkersConfig(s.configPath, { createTemplate: false }));
      expect(e.issues).toHaveLength(1);
      expect(e.issues[0]!.path).toBe("workers[0].tags");
      expect(e.issues[0]!.fix).toContain("letters, digits");
    }
  });
});

describe("dev's WORKER_TAGS", () => {
  const env = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
    HOME: process.env.HOME,
    PATH: process.env.PATH,
    WORKER_TOKEN: token("m1", "w1"),
    CONVEX_URL: "https://a.convex.cloud",
    ...extra,
  });

  test("comma-separated, from the environment or .env", async () => {
    const cwd = tempDir("dev-tags-");
    const fromEnv = await loadDevConfig({ cwd, env: env({ WORKER_TAGS: "api, linux,,api" }), interactive: false });
    expect(fromEnv.workers[0]!.tags).toEqual(["api", "linux"]);
    writeFileSync(join(cwd, ".env"), "WORKER_TAGS=web\n", { mode: 0o600 });
    expect((await loadDevConfig({ cwd, env: env({}), interactive: false })).workers[0]!.tags).toEqual(["web"]);
  });

  test("a bad tag names WORKER_TAGS", async () => {
    const e = await configError(loadDevConfig({ cwd: tempDir("dev-tags-"), env: env({ WORKER_TAGS: "api,no way" }), interactive: false }));
    expect(e.issues.map((i) => i.path)).toEqual(["WORKER_TAGS"]);
    expect(e.issues[0]!.message).toContain('"no way"');
  });
});

describe("the docs state the routing limits as defined", () => {
  // Line breaks in the prose are not part of the fact.
  const read = (p: string) => readFileSync(join(REPO, p), "utf8").replace(/\s+/g, " ");
  test("tag alphabet and limits, and the reroute period", () => {
    const config = read("docs/configuration.md");
    const routing = read("docs/routing.md");
    for (const doc of [config, routing]) expect(doc).toContain(`1–${MAX_TAG_CHARS} letters, digits`);
    expect(config).toContain(`At most ${MAX_TAGS};`);
    expect(routing).toContain(`at most ${MAX_TAGS} per worker`);
    const minutes = REROUTE_AFTER_MS / 60_000;
    expect(routing).toContain(`offline for ${minutes} minutes`);
    expect(read("README.md")).toContain(`offline for ${minutes} minutes`);
    expect(read("docs/chat-json.md")).toContain(`offline ${minutes} minutes`);
  });
});
