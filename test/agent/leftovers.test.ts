// Servers left behind by an orchestrator that died hard are found and stopped at the next
// start — and nothing that merely looks like a leftover is ever signalled.
import { afterAll, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { AGENT_MARKER_VAR, agentsDir, reapLeftoverAgents } from "../../src/agent/index.ts";
import { createLogger } from "../../src/util/log.ts";
import { groupExists, pidAlive } from "../../src/util/process-group.ts";
import { harness, type Harness } from "./helpers.ts";
import { tempDir } from "../support/tmp.ts";

const log = createLogger({ sink: () => {}, level: "debug" });
const spawned: ChildProcess[] = [];

afterAll(() => {
  for (const c of spawned) {
    try {
      process.kill(c.pid!, "SIGKILL");
    } catch {
      // gone
    }
  }
});

function sleeper(env: NodeJS.ProcessEnv = process.env, detached = false): ChildProcess {
  const c = spawn("sleep", ["120"], { env, detached, stdio: "ignore" });
  spawned.push(c);
  return c;
}

async function deadPid(): Promise<number> {
  const c = spawn("true", [], { stdio: "ignore" });
  await new Promise((r) => c.on("exit", r));
  return c.pid!;
}

async function waitGone(pid: number, ms = 10_000): Promise<boolean> {
  const start = Date.now();
  while (pidAlive(pid) && Date.now() - start < ms) await new Promise((r) => setTimeout(r, 50));
  return !pidAlive(pid);
}

/** A dead leader stays a zombie (and its group "exists") until PID 1 reaps it, which can take a moment. */
async function waitGroupGone(pgid: number, ms = 10_000): Promise<boolean> {
  const start = Date.now();
  while (groupExists(pgid) && Date.now() - start < ms) await new Promise((r) => setTimeout(r, 50));
  return !groupExists(pgid);
}

function record(dir: string, rec: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${rec.pid}.json`);
  writeFileSync(file, JSON.stringify(rec));
  return file;
}

describe("reapLeftoverAgents", () => {
  let h: Harness | undefined;
  afterAll(async () => {
    await h?.close();
  }, 60_000);

  test("stops a real OpenCode server whose orchestrator was killed", async () => {
    h = await harness();
    const owner = spawn(process.execPath, [resolve(import.meta.dirname, "fixtures/orphan-owner.ts"), h.directory], {
      env: h.env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    spawned.push(owner);
    const line = await new Promise<string>((res, rej) => {
      let out = "";
      owner.stdout!.on("data", (d) => {
        out += d;
        if (out.includes("\n")) res(out.split("\n")[0]!);
      });
      owner.on("exit", (code) => rej(new Error(`owner exited early (${code})`)));
    });
    const { pid } = JSON.parse(line) as { pid: number };
    const file = join(agentsDir(), `${pid}.json`);

    // The record: private, and without the server's password.
    expect(statSync(agentsDir()).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const rec = JSON.parse(readFileSync(file, "utf8"));
    expect(rec.ownerPid).toBe(owner.pid);
    const password = readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .find((v) => v.startsWith("OPENCODE_SERVER_PASSWORD="))!
      .split("=")[1]!;
    expect(readFileSync(file, "utf8")).not.toContain(password);

    // While its orchestrator lives, the server is not a leftover.
    expect((await reapLeftoverAgents(log)).kept).toBeGreaterThanOrEqual(1);
    expect(pidAlive(pid)).toBe(true);

    owner.kill("SIGKILL");
    await new Promise((r) => owner.on("exit", r));
    expect(pidAlive(pid)).toBe(true); // its own process group: it survived the owner

    const result = await reapLeftoverAgents(log);
    expect(result.stopped).toContain(pid);
    expect(await waitGone(pid)).toBe(true);
    expect(await waitGroupGone(pid)).toBe(true);
    expect(existsSync(file)).toBe(false);
  }, 120_000);

  test("stops a lookalike carrying the recorded marker, even when it left the process group", async () => {
    const dir = join(tempDir("agents-"), "agents");
    const marker = randomBytes(12).toString("hex");
    const leader = sleeper({ ...process.env, [AGENT_MARKER_VAR]: marker }, true);
    const straggler = sleeper({ ...process.env, [AGENT_MARKER_VAR]: marker }, true); // another group
    const file = record(dir, { pid: leader.pid, marker, ownerPid: await deadPid(), directory: "/x", command: "opencode", startedAt: "" });
    const result = await reapLeftoverAgents(log, { dir, timeoutMs: 3_000 });
    expect(result.stopped).toEqual([leader.pid!]);
    expect(await waitGone(leader.pid!)).toBe(true);
    expect(await waitGone(straggler.pid!)).toBe(true);
    expect(existsSync(file)).toBe(false);
  }, 30_000);

  test("never signals an unrelated process a stale record points at", async () => {
    const dir = join(tempDir("agents-"), "agents");
    const unrelated = sleeper();
    const wrongMarker = sleeper({ ...process.env, [AGENT_MARKER_VAR]: "some-other-marker-value" }, true);
    const f1 = record(dir, { pid: unrelated.pid, marker: randomBytes(12).toString("hex"), ownerPid: await deadPid(), directory: "/x", command: "opencode", startedAt: "" });
    const f2 = record(dir, { pid: wrongMarker.pid, marker: randomBytes(12).toString("hex"), ownerPid: await deadPid(), directory: "/x", command: "opencode", startedAt: "" });
    const f3 = record(dir, { pid: await deadPid(), marker: randomBytes(12).toString("hex"), ownerPid: await deadPid(), directory: "/x", command: "opencode", startedAt: "" });
    writeFileSync(join(dir, "999999.json"), "{not json");
    const result = await reapLeftoverAgents(log, { dir });
    expect(result.stopped).toEqual([]);
    expect(result.removed).toBe(4);
    await new Promise((r) => setTimeout(r, 200));
    expect(pidAlive(unrelated.pid!)).toBe(true);
    expect(pidAlive(wrongMarker.pid!)).toBe(true);
    for (const f of [f1, f2, f3, join(dir, "999999.json")]) expect(existsSync(f)).toBe(false);
  }, 30_000);

  test("leaves servers of a live orchestrator alone", async () => {
    const dir = join(tempDir("agents-"), "agents");
    const marker = randomBytes(12).toString("hex");
    const server = sleeper({ ...process.env, [AGENT_MARKER_VAR]: marker }, true);
    const liveOwner = sleeper();
    const file = record(dir, { pid: server.pid, marker, ownerPid: liveOwner.pid, directory: "/x", command: "opencode", startedAt: "" });
    const result = await reapLeftoverAgents(log, { dir });
    expect(result).toEqual({ stopped: [], removed: 0, kept: 1 });
    expect(pidAlive(server.pid!)).toBe(true);
    expect(existsSync(file)).toBe(true);
  }, 30_000);

  test("no records folder is fine", async () => {
    expect(await reapLeftoverAgents(log, { dir: join(tempDir("none-"), "missing") })).toEqual({ stopped: [], removed: 0, kept: 0 });
  });
});
