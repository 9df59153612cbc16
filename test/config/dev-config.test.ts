import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadDevConfig } from "../../src/config/dev-config.ts";
import { FILE_SIZE_LIMITS } from "../../src/config/read-file.ts";
import { DEFAULTS } from "../../src/config/types.ts";
import { ConfigError, EXIT } from "../../src/util/errors.ts";
import { tempDir } from "../support/tmp.ts";
import { SECRET, SECRET2, token } from "./fixtures/workers.ts";

const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env = { ...process.env, ...extra };
  delete env.WORKER_TOKEN;
  delete env.CONVEX_URL;
  delete env.WORKER_NAME;
  delete env.OPENCODE_ORCHESTRATOR_STATUS_ADDRESS;
  return { ...env, ...extra };
};

async function devError(opts: Parameters<typeof loadDevConfig>[0]): Promise<ConfigError> {
  const e = await loadDevConfig(opts).catch((x) => x);
  if (e instanceof ConfigError) return e;
  throw new Error(`expected a ConfigError, got ${e}`);
}

describe("dev config (.env)", () => {
  test("reads .env in the current folder into the same OrchestratorConfig", async () => {
    const cwd = tempDir("dev-");
    writeFileSync(join(cwd, ".env"), `# mine\nWORKER_TOKEN=${token("m1", "w1")}\nexport CONVEX_URL="https://a.convex.cloud/"\n`, { mode: 0o600 });
    chmodSync(join(cwd, ".env"), 0o600);
    const config = await loadDevConfig({ cwd, env: cleanEnv(), interactive: false });
    expect(config.source).toEqual({ kind: "env", envFile: join(cwd, ".env") });
    expect(config.shutdownTimeoutMs).toBe(DEFAULTS.devShutdownTimeoutMs);
    expect(config.statusAddress).toBeNull();
    expect(config.warnings).toEqual([]);
    const w = config.workers[0]!;
    expect(w).toMatchObject({ name: "w1", workingDirectory: cwd, convexUrl: "https://a.convex.cloud", origin: ".env", maxConcurrentSessions: DEFAULTS.maxConcurrentSessions });
    expect(w.token.revealSecret()).toBe(SECRET);
  });

  test("real environment variables win over the file; WORKER_NAME and the status address are honoured", async () => {
    const cwd = tempDir("dev-");
    writeFileSync(join(cwd, ".env"), `WORKER_TOKEN=${token("m1", "w1")}\nCONVEX_URL=https://file.convex.cloud\nWORKER_NAME=from-file\n`);
    chmodSync(join(cwd, ".env"), 0o600);
    const config = await loadDevConfig({
      cwd,
      env: cleanEnv({ WORKER_TOKEN: token("m2", "w2", SECRET2), CONVEX_URL: "http://127.0.0.1:3210", OPENCODE_ORCHESTRATOR_STATUS_ADDRESS: "127.0.0.1:0" }),
      interactive: false,
    });
    const w = config.workers[0]!;
    expect(w.token.workerId).toBe("w2");
    expect(w.token.revealSecret()).toBe(SECRET2);
    expect(w.convexUrl).toBe("http://127.0.0.1:3210");
    expect(w.name).toBe("from-file");
    expect(config.statusAddress).toBe("127.0.0.1:0");
  });

  test("--env-file overrides the location (relative to the current folder)", async () => {
    const cwd = tempDir("dev-");
    mkdirSync(join(cwd, "conf"));
    writeFileSync(join(cwd, "conf", "dev.env"), `WORKER_TOKEN=${token("m1", "w1")}\nCONVEX_URL=https://a.convex.cloud\n`);
    const config = await loadDevConfig({ cwd, envFile: "conf/dev.env", env: cleanEnv(), interactive: false });
    expect(config.source).toEqual({ kind: "env", envFile: join(cwd, "conf", "dev.env") });
  });

  test("no TTY: names each missing variable and how to set it; writes nothing", async () => {
    const cwd = tempDir("dev-");
    const e = await devError({ cwd, env: cleanEnv(), interactive: false });
    expect(e.exitCode).toBe(EXIT.config);
    expect(e.issues.map((i) => i.path)).toEqual(["WORKER_TOKEN", "CONVEX_URL"]);
    expect(e.issues[0]!.message).toBe("is not set");
    expect(e.issues[0]!.fix).toContain("environment variable WORKER_TOKEN");
    expect(e.issues[0]!.fix).toContain(join(cwd, ".env"));
    expect(e.issues[0]!.fix).toContain("terminal");
    expect(e.hint).toContain("Nothing was written");
    expect(existsSync(join(cwd, ".env"))).toBe(false);

    writeFileSync(join(cwd, ".env"), `CONVEX_URL=https://a.convex.cloud\n`);
    const only = await devError({ cwd, env: cleanEnv(), interactive: false });
    expect(only.issues.map((i) => i.path)).toEqual(["WORKER_TOKEN"]);
    expect(readFileSync(join(cwd, ".env"), "utf8")).toBe(`CONVEX_URL=https://a.convex.cloud\n`);
  });

  test("an invalid token gets the format help, never the value", async () => {
    const cwd = tempDir("dev-");
    writeFileSync(join(cwd, ".env"), `WORKER_TOKEN=machine_m1:worker_w1:${SECRET}\nCONVEX_URL=http://example.com\n`);
    const e = await devError({ cwd, env: cleanEnv(), interactive: true });
    expect(e.issues.map((i) => `${i.file} ${i.path}`)).toEqual([`${join(cwd, ".env")} WORKER_TOKEN`, `${join(cwd, ".env")} CONVEX_URL`]);
    expect(e.issues[0]!.fix).toContain("machine_<machineId>:worker_<workerId>:secret_<secret>");
    expect(JSON.stringify(e.issues) + e.message).not.toContain(SECRET);

    const fromEnv = await devError({ cwd: tempDir("dev-"), env: cleanEnv({ WORKER_TOKEN: "nope", CONVEX_URL: "https://a.convex.cloud" }), interactive: false });
    expect(fromEnv.issues[0]).toMatchObject({ file: "environment", path: "WORKER_TOKEN" });
  });

  test("a group-readable .env holding the token gets a chmod 600 warning", async () => {
    const cwd = tempDir("dev-");
    writeFileSync(join(cwd, ".env"), `WORKER_TOKEN=${token("m1", "w1")}\nCONVEX_URL=https://a.convex.cloud\n`);
    chmodSync(join(cwd, ".env"), 0o644);
    const config = await loadDevConfig({ cwd, env: cleanEnv(), interactive: false });
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]!.fix).toBe(`chmod 600 ${join(cwd, ".env")}`);
    // The token from the environment: the file holds no secret, no warning.
    const viaEnv = await loadDevConfig({ cwd, env: cleanEnv({ WORKER_TOKEN: token("m1", "w1") }), interactive: false });
    expect(viaEnv.warnings).toEqual([]);
  });

  test("an invalid WORKER_NAME is rejected", async () => {
    const cwd = tempDir("dev-");
    const e = await devError({ cwd, env: cleanEnv({ WORKER_TOKEN: token("m1", "w1"), CONVEX_URL: "https://a.convex.cloud", WORKER_NAME: "has space" }), interactive: false });
    expect(e.issues[0]!.path).toBe("WORKER_NAME");
  });
});

describe("dev config: OPENCODE_PATH", () => {
  test("a path is resolved against the current folder and must exist; a bare name is kept for PATH lookup", async () => {
    const cwd = tempDir("dev-oc-");
    mkdirSync(join(cwd, "bin"));
    writeFileSync(join(cwd, "bin/opencode"), "#!/bin/sh\n", { mode: 0o755 });
    const base = { WORKER_TOKEN: token("m1", "w1"), CONVEX_URL: "https://a.convex.cloud" };
    const withPath = await loadDevConfig({ cwd, env: cleanEnv({ ...base, OPENCODE_PATH: "bin/opencode" }), interactive: false });
    expect(withPath.workers[0]!.opencodePath).toBe(join(cwd, "bin/opencode"));
    const bare = await loadDevConfig({ cwd, env: cleanEnv({ ...base, OPENCODE_PATH: "opencode-nightly" }), interactive: false });
    expect(bare.workers[0]!.opencodePath).toBe("opencode-nightly");
    const missing = await devError({ cwd, env: cleanEnv({ ...base, OPENCODE_PATH: "./nope/opencode" }), interactive: false });
    expect(missing.issues[0]).toMatchObject({ path: "OPENCODE_PATH" });
    expect(missing.issues[0]!.message).toContain(join(cwd, "nope/opencode"));
  });
});

// Issue 8 item 6: dev's numbers come from the environment or .env, held to workers.json's bounds.
describe("dev config: numbers", () => {
  const base = { WORKER_TOKEN: token("m1", "w1"), CONVEX_URL: "https://a.convex.cloud" };

  test("each number from the environment or .env, in seconds, with the defaults otherwise", async () => {
    const cwd = tempDir("dev-n-");
    writeFileSync(join(cwd, ".env"), "WORKER_HEARTBEAT_INTERVAL=5\nWORKER_SHUTDOWN_TIMEOUT=45 # drain longer\n");
    const config = await loadDevConfig({
      cwd,
      env: cleanEnv({ ...base, WORKER_MAX_CONCURRENT_SESSIONS: "2", WORKER_TURN_INACTIVITY_TIMEOUT: "90", WORKER_AGENT_IDLE_TIMEOUT: "1.5" }),
      interactive: false,
    });
    expect(config.shutdownTimeoutMs).toBe(45_000);
    expect(config.workers[0]).toMatchObject({ maxConcurrentSessions: 2, heartbeatIntervalMs: 5_000, turnInactivityTimeoutMs: 90_000, agentIdleTimeoutMs: 1_500 });
  });

  test("out of range, not a number or not whole: the same messages and fixes as workers.json", async () => {
    const cwd = tempDir("dev-n-");
    writeFileSync(join(cwd, ".env"), "WORKER_HEARTBEAT_INTERVAL=0.0001\n");
    const e = await devError({
      cwd,
      env: cleanEnv({ ...base, WORKER_SHUTDOWN_TIMEOUT: "1e400", WORKER_MAX_CONCURRENT_SESSIONS: "2.5", WORKER_TURN_INACTIVITY_TIMEOUT: "soon" }),
      interactive: false,
    });
    expect(e.exitCode).toBe(EXIT.config);
    const byPath = new Map(e.issues.map((i) => [i.path, i]));
    expect(byPath.get("WORKER_HEARTBEAT_INTERVAL")).toMatchObject({ file: join(cwd, ".env"), message: "must be at least 1", fix: "Use a number of seconds from 1 to 20, e.g. 15." });
    expect(byPath.get("WORKER_SHUTDOWN_TIMEOUT")).toMatchObject({ file: "environment", message: "is too large to be a usable number: must be at most 3600" });
    expect(byPath.get("WORKER_MAX_CONCURRENT_SESSIONS")).toMatchObject({ message: "must be a whole number", fix: "Use a whole number from 1 to 64, e.g. 4." });
    expect(byPath.get("WORKER_TURN_INACTIVITY_TIMEOUT")!.message).toBe('is not a number ("soon")');
  });
});

describe("dev config: bad optional settings", () => {
  test("are reported before anything is asked, so nothing is saved next to them", async () => {
    const cwd = tempDir("dev-o-");
    const e = await devError({
      cwd,
      env: cleanEnv({ WORKER_HEARTBEAT_INTERVAL: "0", WORKER_NAME: "bad name!" }),
      interactive: true,
      prompter: () => {
        throw new Error("nothing may be asked while a setting is wrong");
      },
    });
    expect(e.issues.map((i) => i.path).sort()).toEqual(["CONVEX_URL", "WORKER_HEARTBEAT_INTERVAL", "WORKER_NAME", "WORKER_TOKEN"]);
    expect(existsSync(join(cwd, ".env"))).toBe(false);
  });
});

// Issue 8 item 3: the .env file is read bounded like every other file.
describe("dev config: hostile .env files", () => {
  test("a FIFO, a device or a huge file as --env-file: a ConfigError at once, nothing blocks", async () => {
    const cwd = tempDir("dev-h-");
    execFileSync("mkfifo", [join(cwd, "pipe.env")]);
    const fifo = await devError({ cwd, envFile: "pipe.env", env: cleanEnv(), interactive: false });
    expect(fifo.message).toBe(`"${join(cwd, "pipe.env")}" is a named pipe (FIFO), not a .env file`);
    const device = await devError({ cwd, envFile: "/dev/zero", env: cleanEnv(), interactive: false });
    expect(device.message).toContain("is a device");
    writeFileSync(join(cwd, "big.env"), "A=" + "x".repeat(FILE_SIZE_LIMITS.envFile));
    const big = await devError({ cwd, envFile: "big.env", env: cleanEnv(), interactive: false });
    expect(big.message).toContain("is larger than 256 KiB");
  });
});
