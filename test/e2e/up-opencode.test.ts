// `up` checks OpenCode before starting workers and says what to fix, without failing the rest:
// the worker still comes online and the backend still serves.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY } from "../support/cli.ts";
import { openUpHome, type UpHome } from "./up-support.ts";

let current: UpHome | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

const READY = /1 worker: 1 ready/;

describe("up checks OpenCode", () => {
  test("OpenCode missing → says how to install it; the worker still comes online", async () => {
    const { home } = await openUpHome();
    current = home;
    // A copy of the binary with no node_modules/.bin beside it and an empty PATH: no OpenCode anywhere.
    const program = join(home.project("bare-install"), "opencode-orchestrator");
    copyFileSync(BINARY, program);
    chmodSync(program, 0o755);
    const up = await home.startUp("binary", [], home.project("app"), { program, env: { PATH: home.project("empty-path") } });
    await up.waitFor(READY, { stream: "stderr", timeoutMs: 90_000 });
    expect(up.stderr).toMatch(/warn .*OpenCode is not installed: run `npm install` in the opencode-orchestrator folder.*npm i -g opencode-ai/);
    expect(up.stderr).not.toContain("no model configured");
    up.kill("SIGINT");
    expect((await up.exited).code).toBe(0);
  }, 180_000);

  test("OpenCode without a model → says to run `opencode auth login`; with one, says nothing", async () => {
    const { home } = await openUpHome();
    current = home;
    const bare = await home.startUp("binary", [], home.project("app"), { env: { OPENCODE_CONFIG_CONTENT: undefined } });
    await bare.waitFor(READY, { stream: "stderr", timeoutMs: 90_000 });
    expect(bare.stderr).toMatch(/warn .*OpenCode \(.*opencode\) has no model configured: run `.*opencode auth login`/);
    bare.kill("SIGINT");
    expect((await bare.exited).code).toBe(0);

    const configured = await home.startUp("binary", [], home.project("app"));
    await configured.waitFor(READY, { stream: "stderr", timeoutMs: 90_000 });
    expect(configured.stderr).not.toContain("no model configured");
    expect(configured.stderr).not.toContain("OpenCode is not installed");
    configured.kill("SIGINT");
    expect((await configured.exited).code).toBe(0);
  }, 180_000);
});
