import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readConfigEnv } from "../../src/config/env.ts";
import { parseJsonc } from "../../src/config/jsonc.ts";
import { loadWorkersConfig } from "../../src/config/workers-file.ts";
import { TOP_LEVEL_KEYS, WORKER_KEYS } from "../../src/config/workers-schema.ts";
import { TOKEN_PLACEHOLDER } from "../../src/config/workers-template.ts";
import { DEFAULTS } from "../../src/config/types.ts";
import { ConfigError, EXIT } from "../../src/util/errors.ts";
import { tempDir } from "../support/tmp.ts";
import { scenario, SECRET, SECRET2, token, worker, writeConfig } from "./fixtures/workers.ts";

async function loadError(path: string, env = readConfigEnv()): Promise<ConfigError> {
  try {
    await loadWorkersConfig(path, { createTemplate: false, env });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

const issueText = (e: ConfigError) => JSON.stringify(e.issues) + e.message + (e.hint ?? "");

describe("workers.json: valid files", () => {
  test("the original format validates as it is, with defaults filled in", async () => {
    const s = scenario();
    writeConfig(s.configPath, `{"workers":[{"token":"${token("m1", "w1")}","working_directory":"${s.project}","convex_url":"https://happy-animal-123.convex.cloud"}]}`);
    const config = await loadWorkersConfig(s.configPath, { createTemplate: false });
    expect(config.source).toEqual({ kind: "file", path: s.configPath });
    expect(config.workers).toHaveLength(1);
    const w = config.workers[0]!;
    expect(w.name).toBe("w1");
    expect(w.token.machineId).toBe("m1");
    expect(w.token.workerId).toBe("w1");
    expect(w.token.revealSecret()).toBe(SECRET);
    expect(w.workingDirectory).toBe(s.project);
    expect(w.convexUrl).toBe("https://happy-animal-123.convex.cloud");
    expect(w.maxConcurrentSessions).toBe(DEFAULTS.maxConcurrentSessions);
    expect(w.opencodePath).toBeNull();
    expect(w.agentIdleTimeoutMs).toBe(DEFAULTS.agentIdleTimeoutMs);
    expect(w.turnInactivityTimeoutMs).toBe(DEFAULTS.turnInactivityTimeoutMs);
    expect(w.heartbeatIntervalMs).toBe(DEFAULTS.heartbeatIntervalMs);
    expect(w.origin).toBe("workers[0]");
    expect(config.shutdownTimeoutMs).toBe(DEFAULTS.shutdownTimeoutMs);
    expect(config.statusAddress).toBe(DEFAULTS.statusAddress);
    expect(config.warnings).toEqual([]);
  });

  test("JSONC: comments and trailing commas are accepted", async () => {
    const s = scenario();
    writeConfig(
      s.configPath,
      `// my workers
{
  /* the list */
  "workers": [
    {
      "token": "${token("m1", "w1")}", // inline comment
      "working_directory": "../project",
      "convex_url": "https://happy-animal-123.convex.cloud",
    },
  ],
}
`,
    );
    const config = await loadWorkersConfig(s.configPath, { createTemplate: false });
    expect(config.workers[0]!.workingDirectory).toBe(s.project);
  });

  test("optional fields are converted (seconds to ms, names, status address)", async () => {
    const s = scenario();
    writeConfig(s.configPath, {
      $schema: "https://example.com/schema.json",
      shutdown_timeout: 12.5,
      status_address: "off",
      workers: [
        worker({
          name: "api",
          max_concurrent_sessions: 2,
          opencode_path: "opencode-dev",
          agent_idle_timeout: 60,
          turn_inactivity_timeout: 90,
          heartbeat_interval: 5,
        }),
      ],
    });
    const config = await loadWorkersConfig(s.configPath, { createTemplate: false });
    const w = config.workers[0]!;
    expect(w.name).toBe("api");
    expect(w.maxConcurrentSessions).toBe(2);
    expect(w.opencodePath).toBe("opencode-dev");
    expect(w.agentIdleTimeoutMs).toBe(60_000);
    expect(w.turnInactivityTimeoutMs).toBe(90_000);
    expect(w.heartbeatIntervalMs).toBe(5_000);
    expect(config.shutdownTimeoutMs).toBe(12_500);
    expect(config.statusAddress).toBeNull();
  });

  test("relative paths resolve against the config file's folder, not the cwd", async () => {
    const s = scenario();
    mkdirSync(join(s.configDir, "bin"));
    writeFileSync(join(s.configDir, "bin", "opencode"), "#!/bin/sh\n");
    writeConfig(s.configPath, { workers: [worker({ working_directory: "../project", opencode_path: "./bin/opencode" })] });
    expect(process.cwd()).not.toBe(s.configDir);
    const config = await loadWorkersConfig(s.configPath, { createTemplate: false });
    expect(config.workers[0]!.workingDirectory).toBe(s.project);
    expect(config.workers[0]!.opencodePath).toBe(join(s.configDir, "bin", "opencode"));
  });

  test("~ expands to the home folder", async () => {
    const s = scenario();
    const env = readConfigEnv();
    const inHome = join(env.home, "projects", `p-${Date.now()}`);
    mkdirSync(inHome, { recursive: true });
    writeConfig(s.configPath, { workers: [worker({ working_directory: `~/projects/${inHome.split("/").pop()}` })] });
    const config = await loadWorkersConfig(s.configPath, { createTemplate: false, env });
    expect(config.workers[0]!.workingDirectory).toBe(inHome);
  });

  test("http is accepted for loopback hosts and trailing slashes are dropped", async () => {
    const s = scenario();
    const urls = ["http://127.0.0.1:3210/", "http://127.10.20.30:8080", "http://localhost:3210//", "http://[::1]:3210/", "https://x.convex.cloud/"];
    writeConfig(s.configPath, {
      workers: urls.map((u, i) => worker({ token: token("m1", `w${i}`), convex_url: u, name: `n${i}` })),
    });
    const config = await loadWorkersConfig(s.configPath, { createTemplate: false });
    expect(config.workers.map((w) => w.convexUrl)).toEqual([
      "http://127.0.0.1:3210",
      "http://127.10.20.30:8080",
      "http://localhost:3210",
      "http://[::1]:3210",
      "https://x.convex.cloud",
    ]);
  });

  test("token_file: relative to the config folder, trimmed", async () => {
    const s = scenario();
    const tokenPath = join(s.configDir, "secrets", "w1.token");
    mkdirSync(join(s.configDir, "secrets"));
    writeFileSync(tokenPath, `\n  ${token("m1", "w1", SECRET2)}  \n`, { mode: 0o600 });
    chmodSync(tokenPath, 0o600);
    const { token: _t, ...rest } = worker();
    writeConfig(s.configPath, { workers: [{ ...rest, token_file: "secrets/w1.token" }] });
    const config = await loadWorkersConfig(s.configPath, { createTemplate: false });
    expect(config.workers[0]!.token.revealSecret()).toBe(SECRET2);
    expect(config.warnings).toEqual([]);
  });

  test("OPENCODE_ORCHESTRATOR_STATUS_ADDRESS overrides the file", async () => {
    const s = scenario();
    writeConfig(s.configPath, { status_address: "127.0.0.1:9999", workers: [worker()] });
    const env = readConfigEnv({ ...process.env, OPENCODE_ORCHESTRATOR_STATUS_ADDRESS: "127.0.0.1:0" });
    const config = await loadWorkersConfig(s.configPath, { createTemplate: false, env });
    expect(config.statusAddress).toBe("127.0.0.1:0");
    const fromFile = await loadWorkersConfig(s.configPath, { createTemplate: false });
    expect(fromFile.statusAddress).toBe("127.0.0.1:9999");
  });
});

describe("workers.json: errors", () => {
  test("a syntax error points at line:column and says what is wrong", async () => {
    const s = scenario();
    writeConfig(s.configPath, `{\n  "workers": [\n    {"token": "x" "working_directory": "y"}\n  ]\n}\n`);
    const e = await loadError(s.configPath);
    expect(e.exitCode).toBe(EXIT.config);
    expect(e.issues).toHaveLength(1);
    expect(e.issues[0]!.file).toBe(s.configPath);
    expect(e.issues[0]!.path).toBe("3:19");
    expect(e.issues[0]!.message).toBe("expected a comma");
  });

  test("line and column count from 1, comments included", () => {
    let err: unknown;
    try {
      parseJsonc(`// c\n/* d\n */ {"a": tru}`, "/x.json");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues[0]!.path).toBe("3:11");
    expect((err as ConfigError).issues[0]!.message).toBe("unexpected character");
  });

  test("an empty file is an error, not an empty config", async () => {
    const s = scenario();
    writeConfig(s.configPath, "// nothing yet\n");
    const e = await loadError(s.configPath);
    expect(e.message).toContain("is empty");
  });

  test("every schema problem is reported at once, each with its path and a fix", async () => {
    const s = scenario();
    writeConfig(s.configPath, {
      shutdown_timout: 5,
      workers: [
        worker(),
        { token: token("m1", "w2"), working_dir: "../project", convex_url: "https://x.convex.cloud", max_concurrent_sessions: 100 },
        worker({ token: token("m1", "w3"), convex_url: "http://example.com", heartbeat_interval: "15" }),
        worker({ token: token("m1", "w4"), max_concurrent_sessions: 2.5, name: "bad name!" }),
      ],
    });
    const e = await loadError(s.configPath);
    const byPath = new Map(e.issues.map((i) => [i.path, i]));
    expect([...byPath.keys()].sort()).toEqual(
      [
        "shutdown_timout",
        "workers[1].working_dir",
        "workers[1].working_directory",
        "workers[1].max_concurrent_sessions",
        "workers[2].convex_url",
        "workers[2].heartbeat_interval",
        "workers[3].max_concurrent_sessions",
        "workers[3].name",
      ].sort(),
    );
    expect(byPath.get("shutdown_timout")!.message).toContain('did you mean "shutdown_timeout"');
    expect(byPath.get("workers[1].working_dir")!.message).toContain('did you mean "working_directory"');
    expect(byPath.get("workers[1].working_directory")!.message).toBe("is required");
    expect(byPath.get("workers[1].max_concurrent_sessions")!.message).toBe("must be at most 64");
    expect(byPath.get("workers[2].convex_url")!.message).toContain("https");
    expect(byPath.get("workers[2].heartbeat_interval")!.message).toBe("must be a number, not a string");
    expect(byPath.get("workers[3].max_concurrent_sessions")!.message).toContain("whole number");
    for (const i of e.issues) expect(i.fix).toBeTruthy();
    expect(e.message).toContain(`${e.issues.length} problems`);
    // Top level first, then worker by worker.
    expect(e.issues[0]!.path).toBe("shutdown_timout");
  });

  test("camelCase and abbreviated keys get a suggestion", async () => {
    const s = scenario();
    writeConfig(s.configPath, { workers: [{ token: token("m1", "w1"), workingDirectory: "../project", convexUrl: "https://x.convex.cloud", cwd: "x" }] });
    const e = await loadError(s.configPath);
    const msgs = e.issues.map((i) => `${i.path}: ${i.message}`);
    expect(msgs).toContain('workers[0].workingDirectory: unknown key "workingDirectory" — did you mean "working_directory"?');
    expect(msgs).toContain('workers[0].convexUrl: unknown key "convexUrl" — did you mean "convex_url"?');
    expect(msgs).toContain('workers[0].cwd: unknown key "cwd" — did you mean "working_directory"?');
  });

  test("wrong top-level shapes", async () => {
    const s = scenario();
    writeConfig(s.configPath, "[]");
    expect((await loadError(s.configPath)).issues[0]!.message).toContain("must hold an object");
    writeConfig(s.configPath, { workers: [] });
    const e = await loadError(s.configPath);
    expect(e.issues[0]!.path).toBe("workers");
    expect(e.issues[0]!.message).toBe("needs at least 1 worker");
    writeConfig(s.configPath, {});
    expect((await loadError(s.configPath)).issues[0]!.path).toBe("workers");
  });

  test("a bad token gets the format help and is never echoed", async () => {
    const s = scenario();
    const leaky = `machine_m1:worker_w1:${SECRET}`; // "secret_" prefix missing
    writeConfig(s.configPath, { workers: [worker({ token: leaky }), worker({ token: `machine_m1 worker_w2 ${SECRET2}` })] });
    const e = await loadError(s.configPath);
    expect(e.issues.map((i) => i.path)).toEqual(["workers[0].token", "workers[1].token"]);
    expect(e.issues[0]!.message).toContain('the third part must be "secret_<secret>"');
    expect(e.issues[0]!.fix).toContain("machine_<machineId>:worker_<workerId>:secret_<secret>");
    expect(e.issues[1]!.message).toContain('expected 3 parts separated by ":" but found 1');
    const all = issueText(e);
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(SECRET2);
  });

  test("the template's placeholder gets its own message", async () => {
    const s = scenario();
    writeConfig(s.configPath, { workers: [worker({ token: TOKEN_PLACEHOLDER })] });
    const e = await loadError(s.configPath);
    expect(e.issues[0]!.message).toContain("placeholder");
  });

  test("plain http to a non-loopback host is rejected", async () => {
    const s = scenario();
    writeConfig(s.configPath, {
      workers: ["http://example.com", "http://128.0.0.1:3210", "http://localhost.evil.com", "ftp://x.convex.cloud", "not a url"].map((u, i) =>
        worker({ token: token("m1", `w${i}`), convex_url: u }),
      ),
    });
    const e = await loadError(s.configPath);
    expect(e.issues.map((i) => i.path)).toEqual([0, 1, 2, 3, 4].map((i) => `workers[${i}].convex_url`));
    expect(e.issues[0]!.message).toContain("must use https://");
    expect(e.issues[0]!.fix).toContain("https://example.com");
    expect(e.issues[3]!.message).toContain("must start with https://");
    expect(e.issues[4]!.message).toContain("is not a URL");
  });

  test("a missing folder is named by its resolved path; a file is not a folder", async () => {
    const s = scenario();
    writeFileSync(join(s.root, "a-file"), "");
    writeConfig(s.configPath, { workers: [worker({ working_directory: "../missing" }), worker({ token: token("m1", "w2"), working_directory: "../a-file" })] });
    const e = await loadError(s.configPath);
    expect(e.issues[0]!.path).toBe("workers[0].working_directory");
    expect(e.issues[0]!.message).toContain(join(s.root, "missing"));
    expect(e.issues[0]!.message).toContain("does not exist");
    expect(e.issues[1]!.path).toBe("workers[1].working_directory");
    expect(e.issues[1]!.message).toContain(join(s.root, "a-file"));
    expect(e.issues[1]!.message).toContain("is not a folder");
  });

  test("the same worker twice is an error naming both entries", async () => {
    const s = scenario();
    mkdirSync(join(s.root, "other"));
    writeConfig(s.configPath, {
      workers: [worker(), worker({ token: token("m2", "w1"), name: "other-machine" }), worker({ token: token("m1", "w1", SECRET2), working_directory: "../other" })],
    });
    const e = await loadError(s.configPath);
    expect(e.issues).toHaveLength(1);
    expect(e.issues[0]!.path).toBe("workers[2].token");
    expect(e.issues[0]!.message).toContain("workers[0] and workers[2] are the same worker");
  });

  test("duplicate names are an error; the same folder twice is a warning", async () => {
    const s = scenario();
    writeConfig(s.configPath, { workers: [worker({ name: "api" }), worker({ token: token("m1", "w2"), name: "api" })] });
    const e = await loadError(s.configPath);
    expect(e.issues.map((i) => `${i.path}: ${i.message}`)).toEqual(['workers[1].name: the name "api" is already used by workers[0]']);

    // Same folder spelled through a symlink still counts as the same folder.
    symlinkSync(s.project, join(s.root, "link"));
    writeConfig(s.configPath, { workers: [worker(), worker({ token: token("m1", "w2"), working_directory: "../link" })] });
    const config = await loadWorkersConfig(s.configPath, { createTemplate: false });
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]!.path).toBe("workers[1].working_directory");
    expect(config.warnings[0]!.message).toContain("workers[0] and workers[1] both run in");
  });

  test("token and token_file: exactly one, and the file must exist and hold a token", async () => {
    const s = scenario();
    writeFileSync(join(s.configDir, "bad.token"), "garbage-without-structure\n");
    writeFileSync(join(s.configDir, "empty.token"), "\n");
    const { token: _t, ...noToken } = worker();
    writeConfig(s.configPath, {
      workers: [
        { ...noToken },
        { ...worker({ token: token("m1", "w2") }), token_file: "x" },
        { ...noToken, token_file: "missing.token" },
        { ...noToken, token_file: "bad.token" },
        { ...noToken, token_file: "empty.token" },
      ],
    });
    const e = await loadError(s.configPath);
    const msgs = e.issues.map((i) => `${i.path}: ${i.message}`);
    expect(msgs[0]).toBe("workers[0].token: is required");
    expect(msgs[1]).toBe('workers[1].token: both "token" and "token_file" are set');
    expect(msgs[2]).toContain(`workers[2].token_file: token file "${join(s.configDir, "missing.token")}" does not exist`);
    expect(msgs[3]).toContain("workers[3].token_file: the file's content is not a worker token");
    expect(e.issues[3]!.file).toBe(join(s.configDir, "bad.token"));
    expect(msgs[4]).toContain("is empty");
    expect(issueText(e)).not.toContain("garbage-without-structure");
  });

  test("files holding tokens readable by group or others give a chmod 600 warning", async () => {
    const s = scenario();
    const tokenPath = join(s.configDir, "w2.token");
    writeFileSync(tokenPath, token("m1", "w2"));
    chmodSync(tokenPath, 0o640);
    const { token: _t, ...noToken } = worker();
    writeConfig(s.configPath, { workers: [worker(), { ...noToken, token_file: "w2.token" }] }, 0o644);
    mkdirSync(join(s.root, "p2"));
    writeConfig(s.configPath, { workers: [worker(), { ...noToken, working_directory: "../p2", token_file: "w2.token" }] }, 0o644);
    const config = await loadWorkersConfig(s.configPath, { createTemplate: false });
    expect(config.warnings).toHaveLength(2);
    expect(config.warnings[0]!.file).toBe(s.configPath);
    expect(config.warnings[0]!.message).toContain("group and others");
    expect(config.warnings[0]!.fix).toBe(`chmod 600 ${s.configPath}`);
    expect(config.warnings[1]!.file).toBe(tokenPath);
    expect(config.warnings[1]!.message).toContain("readable by group");
    expect(config.warnings[1]!.fix).toBe(`chmod 600 ${tokenPath}`);
  });

  test("a missing file without createTemplate writes nothing", async () => {
    const dir = join(tempDir("nofile-"), "sub");
    const path = join(dir, "workers.json");
    const e = await loadError(path);
    expect(e.exitCode).toBe(EXIT.config);
    expect(e.message).toContain(path);
    expect(e.hint).toContain("orchestrate");
    expect(existsSync(dir)).toBe(false);
  });

  test("a folder given as the config file", async () => {
    const s = scenario();
    const e = await loadError(s.configDir);
    expect(e.message).toContain("is a folder");
  });
});

describe("workers.json: template", () => {
  test("createTemplate writes a 0600 template in a new 0700 folder, then fails with exit 78", async () => {
    const dir = join(tempDir("tpl-"), "opencode-orchestrator");
    const path = join(dir, "workers.json");
    let err: unknown;
    try {
      await loadWorkersConfig(path, { createTemplate: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.exitCode).toBe(78);
    expect(e.message).toContain(`template was written to ${path}`);
    expect(e.hint).toContain("validate");
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);

    // The template does not validate until edited, and says why.
    const again = await loadError(path);
    expect(again.issues.some((i) => i.path === "workers[0].token" && i.message.includes("placeholder"))).toBe(true);
    expect(again.issues.some((i) => i.path === "workers[0].working_directory")).toBe(true);
    // It parses (no syntax error): only schema problems.
    expect(again.issues.every((i) => !/^\d+:\d+$/.test(i.path))).toBe(true);
  });

  test("the template explains every field and holds no plausible token", async () => {
    const dir = tempDir("tpl2-");
    const path = join(dir, "workers.json");
    await loadWorkersConfig(path, { createTemplate: true }).catch(() => {});
    const text = readFileSync(path, "utf8");
    for (const key of [...WORKER_KEYS, ...TOP_LEVEL_KEYS.filter((k) => k !== "$schema")]) expect(text).toContain(`"${key}"`);
    expect(text).not.toMatch(/machine_[A-Za-z0-9_-]+:worker_[A-Za-z0-9_-]+:secret_[A-Za-z0-9_-]+/);
    // Hand-edited values keep validating: fill in the placeholders and it loads.
    const s = scenario();
    writeFileSync(path, text.replace(TOKEN_PLACEHOLDER, token("m1", "w1")).replace("~/path/to/your/project", s.project));
    chmodSync(path, 0o600);
    const config = await loadWorkersConfig(path, { createTemplate: true });
    expect(config.workers[0]!.convexUrl).toBe("https://your-deployment.convex.cloud");
  });

  test("an existing file is never replaced by the template", async () => {
    const s = scenario();
    writeConfig(s.configPath, "{ broken");
    const e = await loadWorkersConfig(s.configPath, { createTemplate: true }).catch((x) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect(readFileSync(s.configPath, "utf8")).toBe("{ broken");
  });
});
