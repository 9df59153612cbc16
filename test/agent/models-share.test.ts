// Shared model listings (src/agent/models-share.ts) and the order of OpenCode jobs
// (src/worker/agent-queue.ts), run against stand-in `opencode` scripts that log every run to a
// file, so the runs are counted, not guessed.
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { listingKey } from "../../src/agent/models-key.ts";
import { shareModelListings } from "../../src/agent/models-share.ts";
import { listAgentModels } from "../../src/agent/models.ts";
import type { SandboxRequest } from "../../src/agent/sandbox/plan.ts";
import { SANDBOX_DEFAULTS } from "../../src/config/sandbox-settings.ts";
import { createLogger } from "../../src/util/log.ts";
import { pidAlive } from "../../src/util/process-group.ts";
import { agentQueue, createAgentHost } from "../../src/worker/agent-host.ts";
import { start } from "../support/proc.ts";
import { tempDir } from "../support/tmp.ts";
import { scriptedAgent } from "../worker/scripted-agent.ts";

const log = createLogger({ sink: () => {} });

/** A stand-in `opencode` that appends `<name> <folder>` to runs.log, runs `body`, then lists a model named after its folder. */
function standIn(name = "list", body = ""): { root: string; bin: string; runs: () => string[] } {
  const root = tempDir("share-");
  const bin = join(root, `opencode-${name}`);
  const logFile = join(root, "runs.log");
  writeFileSync(bin, `#!/bin/sh\necho "${name} $(basename "$PWD")" >> "${logFile}"\n${body}\necho "cwd/$(basename "$PWD")"\n`, { mode: 0o755 });
  return { root, bin, runs: () => (existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n") : []) };
}

function folders(root: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const d = join(root, `w${i}`);
    mkdirSync(d, { recursive: true });
    return d;
  });
}

/** A logger and the moment it first writes a line holding `text` (to sync on, never to sleep). */
function logSaying(text: string) {
  let said = () => {};
  const seen = new Promise<void>((res) => (said = res));
  return { log: createLogger({ level: "debug", sink: (line) => void (line.includes(text) && said()) }), said: seen };
}

const modelOf = (dir: string) => [{ providerId: "cwd", modelId: basename(dir), name: basename(dir) }];

describe("shared listings", () => {
  test("five workers in folders without their own OpenCode config: one run, its list for all", async () => {
    const { root, bin, runs } = standIn();
    const share = shareModelListings(listAgentModels);
    const dirs = folders(root, 5);
    // Two at once (they join the running listing), then the rest one after another (finished listing).
    const first = await Promise.all(dirs.slice(0, 2).map((directory) => share({ directory, opencodePath: bin, log })));
    const rest = [];
    for (const directory of dirs.slice(2)) rest.push(await share({ directory, opencodePath: bin, log }));
    // Whichever of the first two asked first ran it.
    const ran = runs();
    expect(ran.length).toBe(1);
    const trigger = dirs.find((d) => ran[0] === `list ${basename(d)}`)!;
    expect([dirs[0], dirs[1]]).toContain(trigger);
    for (const got of [...first, ...rest]) expect(got).toEqual(modelOf(trigger));
    expect(share.runs).toBe(1);
  });

  test("a project opencode.json in one folder gives that folder its own run", async () => {
    const { root, bin, runs } = standIn();
    const share = shareModelListings(listAgentModels);
    const dirs = folders(root, 4);
    writeFileSync(join(dirs[2]!, "opencode.json"), '{"model":"stub/other"}');
    const got = [];
    for (const directory of dirs) got.push(await share({ directory, opencodePath: bin, log }));
    expect(runs()).toEqual(["list w0", "list w2"]);
    expect(got).toEqual([modelOf(dirs[0]!), modelOf(dirs[0]!), modelOf(dirs[2]!), modelOf(dirs[0]!)]);
  });

  test("a failed listing is not handed to later workers: the next one runs again", async () => {
    const { root, bin, runs } = standIn("list", '[ -e ../fail ] && { echo "broken config" >&2; exit 4; }');
    const share = shareModelListings(listAgentModels);
    const [a, b] = folders(root, 2);
    writeFileSync(join(root, "fail"), "");
    await expect(share({ directory: a!, opencodePath: bin, log })).rejects.toThrow("exited with 4: broken config");
    rmSync(join(root, "fail"));
    expect(await share({ directory: b!, opencodePath: bin, log })).toEqual(modelOf(b!));
    expect(runs()).toEqual(["list w0", "list w1"]);
  });

  test("a finished listing is handed out for the TTL only", async () => {
    const { root, bin, runs } = standIn();
    let now = 1_000;
    const share = shareModelListings(listAgentModels, { ttlMs: 60_000, now: () => now });
    const [a, b, c] = folders(root, 3);
    await share({ directory: a!, opencodePath: bin, log });
    now += 60_000;
    await share({ directory: b!, opencodePath: bin, log });
    now += 60_001;
    await share({ directory: c!, opencodePath: bin, log });
    expect(runs()).toEqual(["list w0", "list w2"]);
  });

  test("the worker that started a shared run stopping ends only its own wait", async () => {
    const { root, bin, runs } = standIn("list", 'while [ ! -e ../gate ]; do sleep 0.05; done');
    const share = shareModelListings(listAgentModels);
    const [a, b] = folders(root, 2);
    // a starts the run, then b joins it: each step synced on the line its logger writes.
    const a_ = logSaying("listing OpenCode's models");
    const b_ = logSaying("joining a model listing");
    const stopA = new AbortController();
    const gotA = share({ directory: a!, opencodePath: bin, log: a_.log, signal: stopA.signal });
    await a_.said;
    const gotB = share({ directory: b!, opencodePath: bin, log: b_.log });
    await b_.said;
    stopA.abort();
    await expect(gotA).rejects.toThrow("the worker is stopping");
    writeFileSync(join(root, "gate"), "");
    expect(await gotB).toEqual(modelOf(a!));
    expect(runs()).toEqual(["list w0"]);
  });

  test("when every waiting worker stops, the run is stopped too, and the next worker runs afresh", async () => {
    const { root, bin, runs } = standIn("list", 'while [ ! -e ../gate ]; do sleep 0.05; done');
    const share = shareModelListings(listAgentModels);
    const [a, b] = folders(root, 2);
    const a_ = logSaying("listing OpenCode's models");
    const stop = new AbortController();
    const got = share({ directory: a!, opencodePath: bin, log: a_.log, signal: stop.signal });
    await a_.said;
    stop.abort();
    await expect(got).rejects.toThrow("the worker is stopping");
    writeFileSync(join(root, "gate"), "");
    expect(await share({ directory: b!, opencodePath: bin, log })).toEqual(modelOf(b!));
    expect(share.runs).toBe(2);
    expect(runs().at(-1)).toBe("list w1");
  });

  test("the last worker to stop waits for the run's end: no process of its group is left", async () => {
    // A member of the run's group that ignores SIGTERM, as bwrap's namespace init does; it says its pid through a FIFO.
    const { root, bin } = standIn("list", `sh -c 'trap "" TERM; echo $$ > ../member; exec sleep 600' &\nexec sleep 600`);
    execFileSync("mkfifo", [join(root, "member")]);
    const member = start("cat", [join(root, "member")]);
    const share = shareModelListings(listAgentModels);
    const [a] = folders(root, 1);
    const stop = new AbortController();
    const got = share({ directory: a!, opencodePath: bin, log, signal: stop.signal });
    const pid = Number((await member.waitFor(/(\d+)/, { stream: "stdout" }))[1]);
    try {
      stop.abort();
      await expect(got).rejects.toThrow("the worker is stopping");
      expect(pidAlive(pid)).toBe(false);
    } finally {
      if (pidAlive(pid)) process.kill(pid, "SIGKILL");
    }
  });
});

describe("listing keys", () => {
  const sandbox = (secrets: string[]): SandboxRequest => ({ worker: "w", settings: { ...SANDBOX_DEFAULTS, mode: "on" }, secrets });

  test("a config file above two folders: the same key while both see it, another once one's sandbox hides it", async () => {
    const root = tempDir("key-");
    const [a, b] = folders(join(root, "parent"), 2);
    writeFileSync(join(root, "parent", "opencode.json"), "{}");
    const key = (directory: string, s?: SandboxRequest) => listingKey({ directory, opencodePath: "/x/opencode", env: process.env, ...(s ? { sandbox: s } : {}) });
    expect(await key(a!)).toBe(await key(b!));
    // b's sandbox hides the parent folder (another worker's folder), a's does not.
    expect(await key(b!, sandbox([join(root, "parent")]))).not.toBe(await key(a!, sandbox([])));
    expect(await key(a!, sandbox([join(root, "parent")]))).toBe(await key(b!, sandbox([join(root, "parent")])));
  });

  test("the environment counts, our secrets and the per-run password do not", async () => {
    const directory = tempDir("key-");
    const key = (env: NodeJS.ProcessEnv) => listingKey({ directory, opencodePath: null, env });
    const base = { PATH: "/usr/bin", HOME: "/nowhere" };
    expect(await key({ ...base, WORKER_TOKEN: "machine_a:worker_b:secret_c", OPENCODE_SERVER_PASSWORD: "x" })).toBe(await key(base));
    expect(await key({ ...base, ANTHROPIC_API_KEY: "k" })).not.toBe(await key(base));
  });
});

describe("the OpenCode job queue", () => {
  test("a server start goes ahead of the listings still waiting", async () => {
    const gate = standIn("first", 'while [ ! -e ../gate ]; do sleep 0.05; done');
    const order = join(gate.root, "order.log");
    const note = (what: string) => writeFileSync(order, `${what}\n`, { flag: "a" });
    const dirs = folders(gate.root, 3);
    const listing = (i: number) =>
      agentQueue("listing", async () => {
        note(`listing ${i}`);
        return await listAgentModels({ directory: dirs[i]!, opencodePath: gate.bin, log });
      });
    const listings = [listing(0), listing(1), listing(2)];
    const agent = scriptedAgent();
    const host = createAgentHost({
      start: async (o) => {
        note("start");
        return await agent.start(o);
      },
      directory: dirs[0]!,
      opencodePath: null,
      idleTimeoutMs: 60_000,
      log,
    });
    const server = host.acquire();
    writeFileSync(join(gate.root, "gate"), "");
    await server;
    await Promise.all(listings);
    expect(readFileSync(order, "utf8").trim().split("\n")).toEqual(["listing 0", "start", "listing 1", "listing 2"]);
    host.release();
    await host.stop();
  });
});
