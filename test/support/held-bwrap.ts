// A `bwrap` for PATH that runs the real one but holds `opencode models` in the middle of its
// set-up: the parent has cloned the pid namespace's init and waits before letting it go on.
// A stop that lands there is the one that left a bwrap behind (containers/bubblewrap#633):
// killed, the parent never lets the init go, and the init, a namespace's init, ignores SIGTERM.
// bwrap's own options hold it: --userns-block-fd waits on a FIFO nobody writes, --info-fd names
// the init's pid (read here through a second FIFO, so tests sync on it, not on time).
import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pidAlive } from "../../src/util/process-group.ts";
import { findOnPath } from "../../src/util/which.ts";
import { start } from "./proc.ts";
import { tempDir } from "./tmp.ts";

export type HeldBwrap = {
  /** The folder to put first on PATH. */
  dir: string;
  /** The held init's pid (outside its namespace), once bwrap has cloned it. */
  initPid: Promise<number>;
  /** Kills what a failed test left: the held init (it ignores all but SIGKILL) and the FIFO's reader. */
  release(): void;
};

export function heldBwrap(): HeldBwrap {
  const real = findOnPath("bwrap");
  if (!real) throw new Error("heldBwrap: bwrap is not installed");
  const dir = tempDir("held-bwrap-");
  const info = join(dir, "info");
  const hold = join(dir, "hold");
  execFileSync("mkfifo", [info, hold]);
  const script = [
    "#!/bin/sh",
    // The availability probe and `opencode serve` pass through untouched.
    `case " $* " in *" models --verbose "*) exec ${real} --unshare-user --info-fd 8 --userns-block-fd 9 "$@" 8>${info} 9<>${hold} ;; esac`,
    `exec ${real} "$@"`,
  ].join("\n");
  writeFileSync(join(dir, "bwrap"), script + "\n");
  chmodSync(join(dir, "bwrap"), 0o755);
  // A reader lets the held bwrap open the FIFO; it writes the init's pid and goes on waiting.
  const reader = start("cat", [info]);
  let pid: number | undefined;
  const initPid = reader.waitFor(/"child-pid": (\d+)/, { stream: "stdout", timeoutMs: 60_000 }).then((m) => (pid = Number(m[1])));
  const release = () => {
    reader.kill("SIGKILL");
    if (pid !== undefined && pidAlive(pid)) process.kill(pid, "SIGKILL");
  };
  return { dir, initPid, release };
}

/** A process's pid inside its own pid namespace: 1 for a namespace's init. */
export function innerPid(pid: number): number {
  const ns = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]!.trim().split(/\s+/);
  return Number(ns[ns.length - 1]);
}
