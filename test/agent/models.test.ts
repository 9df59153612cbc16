// `opencode models --verbose` output as the worker reads it (src/agent/models.ts): a
// `provider/model` line, then the model as pretty-printed JSON; ids may hold more slashes.
import { afterEach, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { getPriority } from "node:os";
import { basename, join } from "node:path";
import { listAgentModels, parseModelList } from "../../src/agent/models.ts";
import { detectSandbox } from "../../src/agent/sandbox/index.ts";
import type { SandboxRequest } from "../../src/agent/sandbox/plan.ts";
import { SANDBOX_DEFAULTS } from "../../src/config/sandbox-settings.ts";
import { pidAlive } from "../../src/util/process-group.ts";
import { createLogger } from "../../src/util/log.ts";
import { heldBwrap, innerPid, type HeldBwrap } from "../support/held-bwrap.ts";
import { tempDir } from "../support/tmp.ts";
import { waitUntil } from "../e2e/orchestrate-support.ts";

test("verbose listing: ids split at the first slash, names from the JSON", () => {
  const block = (id: string, m: Record<string, unknown>) => `${id}\n${JSON.stringify(m, null, 2)}\n`;
  const out =
    block("stub/stub-model", { id: "stub-model", name: "Stub Model", cost: { input: 0 } }) +
    block("openrouter/anthropic/claude-x", { id: "anthropic/claude-x", name: "Claude X", options: { nested: { deep: true } } }) +
    block("local/no-name", { id: "no-name" });
  expect(parseModelList(out)).toEqual([
    { providerId: "stub", modelId: "stub-model", name: "Stub Model" },
    { providerId: "openrouter", modelId: "anthropic/claude-x", name: "Claude X" },
    { providerId: "local", modelId: "no-name", name: "no-name" },
  ]);
});

test("plain listing (no JSON) and noise: ids alone, named by their id; blank and odd lines skipped", () => {
  expect(parseModelList("stub/a\n\nwarning: something odd\nstub/b\n")).toEqual([
    { providerId: "stub", modelId: "a", name: "a" },
    { providerId: "stub", modelId: "b", name: "b" },
  ]);
});

test("a JSON block cut short ends the list without throwing", () => {
  expect(parseModelList('stub/a\n{\n  "name": "A"\n}\nstub/b\n{\n  "name": "B"')).toEqual([{ providerId: "stub", modelId: "a", name: "A" }]);
});

// The listing as a process: a stand-in `opencode` script plays the failures a real one can have.
describe("listAgentModels", () => {
  const log = createLogger({ sink: () => {} });
  function fakeOpencode(body: string): { dir: string; bin: string } {
    const dir = tempDir("models-");
    const bin = join(dir, "opencode");
    writeFileSync(bin, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return { dir, bin };
  }

  test("runs `models --verbose` in the folder with our secrets removed from its environment", async () => {
    const { dir, bin } = fakeOpencode('[ "$1 $2" = "models --verbose" ] || exit 9\necho "cwd/$(basename "$PWD")"\necho "token/${WORKER_TOKEN:-none}"');
    const env = { ...process.env, WORKER_TOKEN: "machine_a:worker_b:secret_c" };
    expect(await listAgentModels({ directory: dir, opencodePath: bin, log, env })).toEqual([
      { providerId: "cwd", modelId: basename(dir), name: basename(dir) },
      { providerId: "token", modelId: "none", name: "none" },
    ]);
  });

  test("runs at a lower CPU priority than the worker (it only fills a menu)", async () => {
    // The stand-in reports its niceness once the test lets it go, i.e. after the spawn returned.
    const gate = join(tempDir("models-gate-"), "go");
    execFileSync("mkfifo", [gate]);
    const { dir, bin } = fakeOpencode(`cat ${gate} >/dev/null\necho "nice/$(cut -d' ' -f19 /proc/$$/stat)"`);
    const running = listAgentModels({ directory: dir, opencodePath: bin, log });
    await writeFile(gate, "go\n");
    const expected = String(Math.min(19, getPriority() + 10));
    expect(await running).toEqual([{ providerId: "nice", modelId: expected, name: expected }]);
  });

  test("a failing run names its exit code and last stderr lines", async () => {
    const { dir, bin } = fakeOpencode('echo "bad config: provider x" >&2\nexit 3');
    await expect(listAgentModels({ directory: dir, opencodePath: bin, log })).rejects.toThrow("models` exited with 3: bad config: provider x");
  });

  test("one that never ends is stopped at the timeout; a stop signal ends it too", async () => {
    const { dir, bin } = fakeOpencode("exec sleep 600");
    await expect(listAgentModels({ directory: dir, opencodePath: bin, log, timeoutMs: 200 })).rejects.toThrow("it took longer than 0.2 s");
    const stop = new AbortController();
    const running = listAgentModels({ directory: dir, opencodePath: bin, log, signal: stop.signal });
    stop.abort();
    await expect(running).rejects.toThrow("the worker is stopping");
  });

  // The bench's leftover bwrap: a stop while bwrap set up the listing's pid namespace.
  describe.skipIf(!detectSandbox().ok)("with bwrap held in its set-up (test/support/held-bwrap.ts)", () => {
    const held: HeldBwrap[] = [];
    afterEach(() => held.splice(0).forEach((h) => h.release()));
    async function heldListing() {
      const { dir, bin } = fakeOpencode('echo "stub/a"');
      const h = heldBwrap();
      held.push(h);
      const stop = new AbortController();
      const env = { ...process.env, PATH: `${h.dir}:${process.env.PATH}` };
      const sandbox: SandboxRequest = { worker: "w", settings: { ...SANDBOX_DEFAULTS, mode: "on" }, secrets: [] };
      const running = listAgentModels({ directory: dir, opencodePath: bin, log, env, sandbox, signal: stop.signal });
      return { running, stop, initPid: await h.initPid };
    }

    test("a stop ends only once the namespace's init is gone too", async () => {
      const { running, stop, initPid } = await heldListing();
      expect(innerPid(initPid)).toBe(1);
      stop.abort();
      await expect(running).rejects.toThrow("the worker is stopping");
      expect(pidAlive(initPid)).toBe(false);
    });

    test("bwrap killed by someone else: the stop still ends its init, and the run", async () => {
      const { running, stop, initPid } = await heldListing();
      const bwrap = Number(readFileSync(`/proc/${initPid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
      process.kill(bwrap, "SIGKILL");
      // Reaped: the listing has seen its process exit; only the init, holding its pipes, is left.
      await waitUntil(() => !existsSync(`/proc/${bwrap}`), "bwrap reaped");
      expect(pidAlive(initPid)).toBe(true);
      stop.abort();
      await expect(running).rejects.toThrow("the worker is stopping");
      expect(pidAlive(initPid)).toBe(false);
    });
  });

  test("a missing executable says how to install OpenCode", async () => {
    const dir = tempDir("models-");
    await expect(listAgentModels({ directory: dir, opencodePath: join(dir, "nope"), log })).rejects.toThrow("OpenCode was not found");
  });
});
