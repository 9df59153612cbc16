// The real CLI on a real pseudo-terminal, driven by keystrokes, for the interactive chat's
// tests. Bun has no pty API; util-linux's `script` (package bsdutils, essential on Debian, so on
// every CI machine) opens one and runs the command on it: what we write to script's stdin is
// typed on the terminal (Ctrl+C included, as the byte 0x03), and what the program writes to the
// terminal (stdout and stderr alike) comes out of script's stdout.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { BINARY, NODE, NODE_BUNDLE, type CliTarget } from "./cli.ts";
import { createWaiters } from "./waiters.ts";

export const CTRL_C = "\x03";
export const CTRL_D = "\x04";
export const ENTER = "\r";

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** What a person would read: escape sequences (colors, cursor moves) and carriage returns removed. */
export function readable(raw: string): string {
  return raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\x1b[()][A-Z0-9]/g, "").replace(/\r/g, "");
}

export type PtyProcess = {
  /** Types keys on the terminal. */
  type(keys: string): void;
  /** Everything shown so far, raw (with escape sequences). */
  readonly raw: string;
  /** Everything shown so far, as readable text. */
  readonly text: string;
  /** A position in `text`, to wait for what comes after it. */
  mark(): number;
  /** Resolves with the match once `pattern` shows up in the readable text after `from` (default 0). */
  waitFor(pattern: RegExp, o?: { from?: number; timeoutMs?: number }): Promise<RegExpMatchArray>;
  /** The pid of `script`; the program is its only child. */
  pid: number;
  /** The program's exit code (script -e passes it on). */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
};

/** Runs the CLI (`args` after the program) on a terminal 100 columns wide. */
export function startOnPty(target: CliTarget, args: string[], env: Record<string, string | undefined>): PtyProcess {
  const file = target === "binary" ? BINARY : NODE_BUNDLE;
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`bun run build\` before the tests`);
  const argv = target === "binary" ? [file, ...args] : [NODE, file, ...args];
  // stty: a pty made from a pipe has no size; readline needs a width to edit lines.
  const shell = `stty cols 100 rows 40; exec ${argv.map(quote).join(" ")}`;
  const merged: NodeJS.ProcessEnv = { ...process.env, TERM: "xterm-256color" };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k];
  else merged[k] = v;
  const child = spawn("script", ["-q", "-e", "-c", shell, "/dev/null"], { env: merged, stdio: ["pipe", "pipe", "pipe"] });
  let raw = "";
  let done = false;
  const waiters = createWaiters();
  child.stdout!.on("data", (d) => {
    raw += d;
    waiters.notify();
  });
  child.stderr!.on("data", (d) => {
    raw += d;
    waiters.notify();
  });
  child.on("error", (e) => {
    raw += `\n[could not run script(1) from util-linux (Debian: bsdutils): ${e.message}]\n`;
    done = true;
    waiters.notify();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => {
      done = true;
      resolve(code);
      waiters.notify();
    });
  });
  return {
    type: (keys) => void child.stdin!.write(keys),
    get raw() {
      return raw;
    },
    get text() {
      return readable(raw);
    },
    mark: () => readable(raw).length,
    waitFor(pattern, o = {}) {
      const timeoutMs = o.timeoutMs ?? 60_000;
      return waiters.until(
        () => {
          const m = readable(raw).slice(o.from ?? 0).match(pattern);
          if (m) return m;
          if (done) throw new Error(`exited before ${pattern} appeared; the terminal showed:\n${readable(raw)}`);
          return undefined;
        },
        timeoutMs,
        () => new Error(`timed out after ${timeoutMs}ms waiting for ${pattern}; the terminal showed:\n${readable(raw)}`),
      );
    },
    pid: child.pid!,
    exited,
    kill: (signal = "SIGKILL") => void child.kill(signal),
  };
}
