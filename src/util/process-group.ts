// Process-group helpers for children started with `detached: true` (each its own group, so
// one signal reaches the whole tree a child spawned: tool shells, language servers, …).
import { readdirSync, readFileSync } from "node:fs";

/** Sends `signal` to every process in group `pgid`. False when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EPERM") return true; // exists, not ours to signal
    return false;
  }
}

/** A process group still has members (zombies included). */
export function groupExists(pgid: number): boolean {
  return signalGroup(pgid, 0);
}

/** Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, … (Linux). */
function statFields(pid: number | string): string[] | null {
  try {
    // "pid (comm) S ppid pgrp …"; comm may contain spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/**
 * Whether group `pgid` still has a member that is not a zombie. A zombie member (bwrap's
 * namespace init once killed, reparented to an init that reaps it later) is gone for us;
 * elsewhere than Linux zombies cannot be told apart and count.
 */
export function groupAlive(pgid: number): boolean {
  if (process.platform !== "linux") return groupExists(pgid);
  if (!groupExists(pgid)) return false;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return true;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const f = statFields(e);
    if (f && Number(f[2]) === pgid && f[0] !== "Z" && f[0] !== "X") return true;
  }
  return false;
}

/** The process exists and is not a zombie waiting to be reaped by someone else. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (process.platform === "linux") {
    const state = statFields(pid)?.[0];
    if (state === undefined || state === "Z" || state === "X") return false;
  }
  return true;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a SIGKILLed process may take to be gone before we stop waiting for it. */
const KILL_WAIT_MS = 5_000;

/** Resolves once `done()` holds, or after `ms` (then false). */
async function until(done: () => boolean, ms: number): Promise<boolean> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start >= ms) return false;
    await sleep(25);
  }
  return true;
}

export type TerminateOptions = {
  /** True once the group leader is gone (e.g. its `exit` event fired). */
  gone: () => boolean;
  /** Total time before SIGKILL (default 10 s). */
  timeoutMs?: number;
  /** When to repeat SIGTERM, which a child can swallow while busy (default: a third of the timeout, at most 3 s). */
  secondTermAfterMs?: number;
};

/**
 * SIGTERM the group, SIGTERM again, SIGKILL after the timeout; resolves once the leader is
 * gone and no straggler of the group survives it (bounded: each SIGKILL is waited on at most
 * KILL_WAIT_MS). Returns the last signal used on the leader.
 */
export async function terminateGroup(pgid: number, opts: TerminateOptions): Promise<"none" | "SIGTERM" | "SIGKILL"> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const second = opts.secondTermAfterMs ?? Math.min(3_000, Math.floor(timeoutMs / 3));
  const start = Date.now();
  let last: "none" | "SIGTERM" | "SIGKILL" = "none";
  if (!opts.gone()) {
    signalGroup(pgid, "SIGTERM");
    last = "SIGTERM";
    let repeated = false;
    while (!opts.gone()) {
      const elapsed = Date.now() - start;
      if (elapsed >= timeoutMs) break;
      if (!repeated && elapsed >= second) {
        signalGroup(pgid, "SIGTERM");
        repeated = true;
      }
      await sleep(25);
    }
    if (!opts.gone()) {
      signalGroup(pgid, "SIGKILL");
      last = "SIGKILL";
      await until(opts.gone, KILL_WAIT_MS);
    }
  }
  // The leader may be gone while members of its group linger: a tool's shell, or bwrap's
  // pid-namespace init, which ignores SIGTERM and, when its bwrap died while setting it up,
  // waits forever (containers/bubblewrap#633). Resolved only once they are gone too.
  if (groupExists(pgid)) {
    signalGroup(pgid, "SIGKILL");
    await until(() => !groupAlive(pgid), KILL_WAIT_MS);
  }
  return last;
}

/**
 * Linux: live processes whose environment contains `name=value`. Catches descendants that left
 * the group (OpenCode runs each shell tool in a session of its own) — an inherited marker
 * variable follows them. Elsewhere, and for other users' processes, nothing is found.
 */
export function processesWithEnv(name: string, value: string): number[] {
  if (process.platform !== "linux") return [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const needle = `${name}=${value}`;
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(needle) && pidAlive(pid)) out.push(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

/** SIGTERM each, SIGKILL whatever is still alive after `timeoutMs`. */
export async function terminatePids(pids: number[], timeoutMs = 2_000): Promise<void> {
  const send = (pid: number, s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      // already gone
    }
  };
  for (const p of pids) send(p, "SIGTERM");
  await until(() => !pids.some(pidAlive), timeoutMs);
  for (const p of pids.filter(pidAlive)) send(p, "SIGKILL");
}
