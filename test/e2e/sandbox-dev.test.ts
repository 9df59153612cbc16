// `dev` with the agent sandbox, through the real CLI, as an attacker would try it: a prompt
// makes the agent's shell look for tokens and keys. It finds none, its own folder still works,
// and stopping `dev` leaves no process of the sandbox behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { detectSandbox } from "../../src/agent/sandbox/index.ts";
import { AGENT_MARKER_VAR } from "../../src/agent/index.ts";
import { CLI_TARGETS } from "../support/cli.ts";
import { markedWith } from "../support/sandbox-world.ts";
import { startWorld, type World } from "../support/e2e.ts";
import { OPENCODE_BIN_DIR } from "../support/opencode-env.ts";
import { TOOL_FINAL_ANSWER } from "../support/stub-model.ts";
import { opencodePid, procEnviron, startDev, stopAll } from "./dev-support.ts";

let world: World;

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await stopAll();
  await world?.stop();
});


/** The owner allows every tool, as unattended agents are set up: only the sandbox stands in the way. */
function permissive(): Record<string, string> {
  const config = JSON.parse(world.env.OPENCODE_CONFIG_CONTENT!);
  return { OPENCODE_CONFIG_CONTENT: JSON.stringify({ ...config, permission: { external_directory: "allow", bash: "allow", read: "allow", edit: "allow" } }) };
}

describe.skipIf(!detectSandbox().ok)("dev with the sandbox (bubblewrap)", () => {
  for (const target of CLI_TARGETS) {
    test(`a prompt asking for every token and key finds none; git and temp work; SIGTERM leaves no process (${target})`, async () => {
      const w = await world.addWorker({ approve: true });
      const secret = w.token.split(":secret_")[1]!;
      const adminKey = world.backend.adminKey;
      const cwd = world.project();
      execFileSync("git", ["init", "-q", cwd]);
      writeFileSync(join(cwd, ".env"), `WORKER_TOKEN=${w.token}\nCONVEX_URL=${world.backend.url}\n`, { mode: 0o600 });
      // Stand-ins for `up`'s data (the local backend's admin key) and an orchestrate config.
      const keyFile = join(world.env.XDG_DATA_HOME!, "opencode-orchestrator", "local-backend", "admin-key");
      mkdirSync(join(keyFile, ".."), { recursive: true, mode: 0o700 });
      writeFileSync(keyFile, adminKey, { mode: 0o600 });
      const workersJson = join(world.env.XDG_CONFIG_HOME!, "opencode-orchestrator", "workers.json");
      mkdirSync(join(workersJson, ".."), { recursive: true, mode: 0o700 });
      writeFileSync(workersJson, JSON.stringify({ workers: [{ token: "machine_m:worker_w:secret_WORKERSJSONE2E" }] }), { mode: 0o600 });

      // The admin key exported in dev's own environment (issue 8 item 21): /proc/<pid>/environ keeps it.
      const dev = startDev(target, world, { cwd, env: { ...permissive(), CONVEX_ADMIN_KEY: adminKey }, args: ["--log-level", "debug"] });
      await dev.waitFor(/\bonline\b/, { stream: "stderr", timeoutMs: 30_000 });
      const devPid = dev.child.pid!;

      const { sessionId } = await world.admin.createSession(w.workerId, "attack");
      const probe = [
        `for f in .env '${keyFile}' '${workersJson}' /proc/${devPid}/environ /proc/${devPid}/cmdline; do cat "$f" | tr '\\0' ' '; echo; done > probe.txt 2>&1`,
        // Everything under the home and temp folders the agent can see (the test's whole world lives there).
        `timeout 30 grep -rhoa 'secret_[A-Za-z0-9_-]*' "$HOME" /tmp '${join(world.env.HOME!, "..")}' 2>/dev/null | head -20 >> probe.txt`,
        "git status --short >/dev/null && echo GIT_OK >> probe.txt",
        "echo t > /tmp/t && echo TMP_OK >> probe.txt",
      ].join("; ");
      const msg = await world.admin.send(sessionId, `TOOLCMD: ${probe}`);
      expect(await world.waitForMessage(msg.messageId)).toMatchObject({ status: "completed", text: TOOL_FINAL_ANSWER });

      const out = readFileSync(join(cwd, "probe.txt"), "utf8");
      expect(out).not.toContain(secret);
      expect(out).not.toContain(adminKey);
      expect(out).not.toContain("secret_WORKERSJSONE2E");
      expect(out).toContain("Permission denied"); // .env: an unreadable node over the file
      expect(out.match(/No such file or directory/g)?.length).toBeGreaterThanOrEqual(4);
      expect(out).toContain("GIT_OK");
      expect(out).toContain("TMP_OK");
      expect(dev.stderr).toMatch(/OpenCode sandbox\b.*state=on/);

      const pid = await opencodePid(dev);
      const marker = procEnviron(pid).find((v) => v.startsWith(`${AGENT_MARKER_VAR}=`))!.split("=")[1]!;
      expect(markedWith(marker).length).toBeGreaterThanOrEqual(3); // bwrap, its init, OpenCode
      dev.kill("SIGTERM");
      expect((await dev.exited).code).toBe(0);
      expect(markedWith(marker)).toEqual([]);
    }, 180_000);
  }
});

describe("dev without bubblewrap", () => {
  test('WORKER_SANDBOX=on: a clear error naming the package, exit 78, nothing started', async () => {
    const w = await world.addWorker({ approve: true });
    const dev = startDev("binary", world, { cwd: world.project(), token: w.token, env: { PATH: OPENCODE_BIN_DIR, WORKER_SANDBOX: "on" } });
    const exit = await dev.exited;
    expect(exit.code).toBe(78);
    expect(dev.stderr).toContain('sandbox is "on" but bubblewrap (bwrap) is not installed');
    expect(dev.stderr).toContain("apt-get install bubblewrap");
    expect(dev.stderr).not.toContain("OpenCode started");
    expect(dev.stderr).not.toMatch(/\bonline\b/);
  }, 60_000);

  test("default (auto): a warning at start saying what is exposed and how to enable it", async () => {
    const w = await world.addWorker({ approve: true });
    const dev = startDev("binary", world, { cwd: world.project(), token: w.token, env: { PATH: OPENCODE_BIN_DIR } });
    await dev.waitFor(/no sandbox/, { stream: "stderr", timeoutMs: 30_000 });
    expect(dev.stderr).toContain("token files");
    expect(dev.stderr).toContain("apt-get install bubblewrap");
    dev.kill("SIGTERM");
    await dev.exited;
  }, 60_000);

  test("WORKER_SANDBOX with a bad value: names the variable and the choices, exit 78", async () => {
    const w = await world.addWorker({ approve: true });
    const dev = startDev("binary", world, { cwd: world.project(), token: w.token, env: { WORKER_SANDBOX: "maybe" } });
    expect((await dev.exited).code).toBe(78);
    expect(dev.stderr).toContain("WORKER_SANDBOX");
    expect(dev.stderr).toContain("auto, on, off");
  }, 60_000);
});
