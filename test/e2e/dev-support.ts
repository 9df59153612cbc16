// Helpers for the end-to-end tests of `dev` and `chat`: the real CLI as child processes
// against one test world (embedded backend + stub model + isolated OpenCode). Everything
// started here is tracked, and `stopAll()` (call it in afterEach/afterAll) kills what is
// still running, including OpenCode servers a killed `dev` left behind.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { runCli, startCli, type CliTarget } from "../support/cli.ts";
import { startWorld, useSharedWorld, type World } from "../support/e2e.ts";
import { start, type RunResult, type Running } from "../support/proc.ts";
import { groupAlive, pidAlive } from "../../src/util/process-group.ts";

const started: Running[] = [];
const opencodePids = new Set<number>();

/** The environment a person-side command (`admin`, `chat`) gets: the world's plus the admin key. */
export function adminEnv(world: World, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { ...world.env, CONVEX_ADMIN_KEY: world.backend.adminKey, ...extra };
}

export type DevOptions = {
  cwd: string;
  /** WORKER_TOKEN in the environment (omit to rely on .env). */
  token?: string;
  env?: Record<string, string | undefined>;
  args?: string[];
  /** Run this copy of the compiled binary instead of dist/'s (e.g. one with no node_modules beside it). */
  program?: string;
};

/** `dev` in `cwd`, talking to the world's backend and stub. No admin key in its environment. */
export function startDev(target: CliTarget, world: World, o: DevOptions): Running {
  const env: Record<string, string | undefined> = { ...world.env, ...(o.token ? { WORKER_TOKEN: o.token } : {}), ...o.env };
  const dev = o.program ? start(o.program, ["dev", ...(o.args ?? [])], { cwd: o.cwd, env }) : startCli(target, ["dev", ...(o.args ?? [])], { cwd: o.cwd, env });
  started.push(dev);
  return dev;
}

/** Starts `dev` for an approved worker and waits until it is online. */
export async function startOnlineDev(target: CliTarget, world: World, name?: string) {
  const worker = await world.addWorker({ approve: true, ...(name ? { name } : {}) });
  const cwd = world.project();
  const dev = startDev(target, world, { cwd, token: worker.token });
  await dev.waitFor(/\bonline\b/, { stream: "stderr", timeoutMs: 30_000 });
  return { worker, cwd, dev };
}

/** Waits for the nth `OpenCode started pid=…` log line of `dev` and returns that pid. */
export async function opencodePid(dev: Running, nth = 1, timeoutMs = 60_000): Promise<number> {
  const m = await dev.waitFor(new RegExp(`(?:[\\s\\S]*?OpenCode started pid=(\\d+)){${nth}}`), { stream: "stderr", timeoutMs });
  const pid = Number(m[1]);
  opencodePids.add(pid);
  return pid;
}

/** True while a process with this pid exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

export async function waitGone(pid: number, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(50);
  }
  return true;
}

/** Pids of the direct children of `pid`. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** A process's environment as NAME=value strings, and its argv. */
export function procEnviron(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
}
export function procCmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
}

/** `chat` to completion. */
export function chat(target: CliTarget, world: World, args: string[], o: { input?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<RunResult> {
  return runCli(target, ["chat", ...args], { env: adminEnv(world, o.env), input: o.input, timeoutMs: o.timeoutMs ?? 60_000 });
}

/** `chat` kept running (to signal it). */
export function startChat(target: CliTarget, world: World, args: string[]): Running {
  const c = startCli(target, ["chat", ...args], { env: adminEnv(world) });
  started.push(c);
  return c;
}

/** `admin …` to completion. */
export function admin(target: CliTarget, world: World, args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return runCli(target, ["admin", ...args], { env: adminEnv(world, env), timeoutMs: 30_000 });
}

/** The session id `chat` printed on stderr. */
/** One `chat --json` event (docs/chat-json.md). */
export type ChatEvent = Record<string, any> & { type: string };

/** `chat --json`'s stdout as events: every line is one JSON object, nothing else is there. */
export function chatEvents(stdout: string): ChatEvent[] {
  return stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as ChatEvent);
}

export function sessionOf(stderr: string): string {
  const m = /session (\S+)/.exec(stderr);
  if (!m) throw new Error(`chat printed no session id:\n${stderr}`);
  return m[1]!;
}

/** The assistant messages of a session, oldest first. */
export async function answers(world: World, sessionId: string) {
  return (await world.admin.messages(sessionId)).filter((m) => m.role === "assistant");
}

/** Waits until the message's answer has some text (the turn is streaming). */
export async function waitForText(world: World, messageId: string, timeoutMs = 60_000) {
  return world.waitForMessage(messageId, (m) => m.text.length > 0, timeoutMs);
}

/**
 * Kills everything the helpers started that still runs (children first, then OpenCode groups),
 * and waits until they are gone: a SIGKILLed OpenCode takes a moment to exit, and the next
 * test (or the world's own check for leftovers) must not find it still there.
 */
export async function stopAll(): Promise<void> {
  const killed: Promise<unknown>[] = [];
  for (const r of started.splice(0)) {
    for (const m of r.stderr.matchAll(/OpenCode started pid=(\d+)/g)) opencodePids.add(Number(m[1]));
    if (r.child.exitCode === null && r.child.signalCode === null) {
      r.kill("SIGKILL");
      killed.push(r.exited);
    }
  }
  await Promise.all(killed);
  const groups = [...opencodePids];
  opencodePids.clear();
  for (const pid of groups) {
    if (!existsSync(`/proc/${pid}`)) continue;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
  const deadline = Date.now() + 5_000;
  while (groups.some((pid) => pidAlive(pid) || groupAlive(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
}

/**
 * One world for a test file: started before its tests, everything they started is stopped after
 * each test, and the world itself after the file. The returned object stands for the world.
 */
export function useWorld(opts?: Parameters<typeof startWorld>[0]): World {
  return useSharedWorld(stopAll, opts);
}

/**
 * One world with one online `dev` shared by a file's tests: call in beforeAll, and pass the
 * result to `closeDevWorld` in afterAll (dev gets SIGTERM and a chance to drain first).
 */
export async function openDevWorld(target: CliTarget, opts?: Parameters<typeof startWorld>[0]) {
  const world = await startWorld(opts);
  return { world, ...(await startOnlineDev(target, world)) };
}

export async function closeDevWorld(w: { world?: World; dev?: Running }): Promise<void> {
  w.dev?.kill("SIGTERM");
  await Promise.race([w.dev?.exited, new Promise((r) => setTimeout(r, 15_000))]);
  await stopAll();
  await w.world?.stop();
}
