import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { readConfigEnv } from "../../src/config/env.ts";
import { configDir, defaultConfigPath, expandHome, resolveConfigPath, resolveFromConfigFile, resolvePath, stateDir } from "../../src/config/paths.ts";

const base = { HOME: "/home/u" } as NodeJS.ProcessEnv;

describe("paths", () => {
  test("XDG config dir, with ~/.config as the default", () => {
    expect(configDir(readConfigEnv(base))).toBe("/home/u/.config/opencode-orchestrator");
    expect(configDir(readConfigEnv({ ...base, XDG_CONFIG_HOME: "/x/cfg" }))).toBe("/x/cfg/opencode-orchestrator");
    // The XDG spec says relative values are invalid and must be ignored.
    expect(configDir(readConfigEnv({ ...base, XDG_CONFIG_HOME: "rel/cfg" }))).toBe("/home/u/.config/opencode-orchestrator");
    expect(defaultConfigPath(readConfigEnv({ ...base, XDG_CONFIG_HOME: "/x/cfg" }))).toBe("/x/cfg/opencode-orchestrator/workers.json");
  });

  test("XDG state dir, with ~/.local/state as the default", () => {
    expect(stateDir(readConfigEnv(base))).toBe("/home/u/.local/state/opencode-orchestrator");
    expect(stateDir(readConfigEnv({ ...base, XDG_STATE_HOME: "/x/state" }))).toBe("/x/state/opencode-orchestrator");
  });

  test("precedence: --config flag > OPENCODE_ORCHESTRATOR_CONFIG > default", () => {
    const env = readConfigEnv({ ...base, XDG_CONFIG_HOME: "/x/cfg", OPENCODE_ORCHESTRATOR_CONFIG: "from-env.json" });
    expect(resolveConfigPath({ flag: "flag.json", env, cwd: "/work" })).toMatchObject({ path: "/work/flag.json", origin: "flag" });
    expect(resolveConfigPath({ env, cwd: "/work" })).toMatchObject({ path: "/work/from-env.json", origin: "env" });
    expect(resolveConfigPath({ env: readConfigEnv({ ...base, XDG_CONFIG_HOME: "/x/cfg" }), cwd: "/work" })).toMatchObject({
      path: "/x/cfg/opencode-orchestrator/workers.json",
      origin: "default",
    });
    expect(resolveConfigPath({ flag: "~/w.json", env, cwd: "/work" }).path).toBe("/home/u/w.json");
  });

  test("the default reads the process environment (the preload's private HOME)", () => {
    expect(defaultConfigPath()).toBe(join(process.env.XDG_CONFIG_HOME!, "opencode-orchestrator", "workers.json"));
  });

  test("~ expansion and resolution against the config file's folder", () => {
    expect(expandHome("~", "/h")).toBe("/h");
    expect(expandHome("~/a/b", "/h")).toBe("/h/a/b");
    expect(expandHome("~other/a", "/h")).toBe("~other/a");
    expect(expandHome("a/~/b", "/h")).toBe("a/~/b");
    expect(resolvePath("../p", "/cfg/dir", "/h")).toBe("/cfg/p");
    expect(resolvePath("/abs/./p/", "/cfg", "/h")).toBe("/abs/p");
    expect(resolveFromConfigFile("proj", "/etc/oco/workers.json", "/h")).toBe("/etc/oco/proj");
    expect(resolveFromConfigFile("~/proj", "/etc/oco/workers.json", "/h")).toBe("/h/proj");
  });

  test("empty environment values count as unset", () => {
    const env = readConfigEnv({ ...base, OPENCODE_ORCHESTRATOR_CONFIG: "", WORKER_TOKEN: "  " });
    expect(env.configPath).toBeUndefined();
    expect(env.workerToken).toBeUndefined();
  });
});
