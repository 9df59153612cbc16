// Start-up failures: missing or broken binaries, a server that never gets ready.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { agentsDir, startAgent } from "../../src/agent/index.ts";
import { RuntimeFailure } from "../../src/util/errors.ts";
import { createLogger } from "../../src/util/log.ts";
import { pidAlive } from "../../src/util/process-group.ts";
import { tempDir } from "../support/tmp.ts";

const log = createLogger({ sink: () => {}, level: "debug" });

async function startError(opts: Partial<Parameters<typeof startAgent>[0]>): Promise<RuntimeFailure> {
  try {
    const a = await startAgent({ directory: tempDir("proj-"), opencodePath: null, log, ...opts });
    await a.stop();
  } catch (err) {
    expect(err).toBeInstanceOf(RuntimeFailure);
    return err as RuntimeFailure;
  }
  throw new Error("startAgent did not fail");
}

function fakeOpencode(script: string): string {
  const file = join(tempDir("bin-"), "opencode");
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe("startAgent failures", () => {
  test("a missing opencode_path names the path and how to install OpenCode", async () => {
    const err = await startError({ opencodePath: "/nonexistent/bin/opencode" });
    expect(err.message).toContain("/nonexistent/bin/opencode");
    expect(err.message).toContain("not found");
    expect(err.hint).toContain("npm i -g opencode-ai");
    expect(err.hint).toContain("opencode_path");
  });

  test("no opencode on PATH says so", async () => {
    const err = await startError({ env: { ...process.env, PATH: tempDir("empty-bin-") } });
    expect(err.message).toContain("PATH");
    expect(err.hint).toContain("npm i -g opencode-ai");
  });

  test("a file that is not executable is reported as such", async () => {
    const file = join(tempDir("bin-"), "opencode");
    writeFileSync(file, "not a program");
    const err = await startError({ opencodePath: file });
    expect(err.message).toContain("not executable");
  });

  test("a folder that does not exist is reported before spawning", async () => {
    const err = await startError({ directory: "/nonexistent/project" });
    expect(err.message).toContain("/nonexistent/project");
  });

  test("an OpenCode that exits early: its exit code and last output are in the error", async () => {
    const err = await startError({ opencodePath: fakeOpencode('echo "boom: broken install" >&2; exit 3') });
    expect(err.message).toContain("exit code 3");
    expect(err.message).toContain("boom: broken install");
    expect(err.hint).toContain("serve");
  });

  test("an OpenCode that never gets ready is killed after the startup timeout", async () => {
    const pidFile = join(tempDir("pid-"), "pid");
    // Ignores SIGTERM, like OpenCode during its first-boot plugin install: only SIGKILL ends it.
    const bin = fakeOpencode(`echo $$ > ${pidFile}; trap '' TERM; while true; do sleep 0.1; done`);
    const started = Date.now();
    const err = await startError({ opencodePath: bin, startupTimeoutMs: 1_500 });
    expect(err.message).toContain("did not start within 1.5 s");
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    expect(pidAlive(pid)).toBe(false);
    expect(Date.now() - started).toBeLessThan(30_000);
    const records = existsSync(agentsDir()) ? readdirSync(agentsDir()) : [];
    expect(records).not.toContain(`${pid}.json`);
  }, 60_000);
});
