// Real child processes for tests: run to completion, or keep running and wait for output.
import { spawn, type ChildProcess } from "node:child_process";
import { createWaiters } from "./waiters.ts";

export type RunResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

export type RunOptions = {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
};

function mergedEnv(env?: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env ?? {})) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: mergedEnv(opts.env), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`timed out after ${opts.timeoutMs}ms: ${cmd} ${args.join(" ")}\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin!.end(opts.input ?? "");
  });
}

/** A long-running process whose output can be awaited line by line. */
export type Running = {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the match once `pattern` shows up in stdout or stderr. */
  waitFor(pattern: RegExp, opts?: { stream?: "stdout" | "stderr" | "any"; timeoutMs?: number }): Promise<RegExpMatchArray>;
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
};

export function start(cmd: string, args: string[], opts: RunOptions = {}): Running {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: mergedEnv(opts.env), stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const waiters = createWaiters();
  const poke = waiters.notify;
  child.stdout!.on("data", (d) => {
    stdout += d;
    poke();
  });
  child.stderr!.on("data", (d) => {
    stderr += d;
    poke();
  });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => {
      resolve({ code, signal });
      poke();
    });
  });
  let done = false;
  exited.then(() => (done = true));
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    kill: (signal = "SIGTERM") => {
      child.kill(signal);
    },
    waitFor(pattern, o = {}) {
      const stream = o.stream ?? "any";
      const timeoutMs = o.timeoutMs ?? 60_000;
      return waiters.until(
        () => {
          const text = stream === "stdout" ? stdout : stream === "stderr" ? stderr : stdout + "\n" + stderr;
          const m = text.match(pattern);
          if (m) return m;
          if (done) throw new Error(`process exited before ${pattern} appeared\nstdout: ${stdout}\nstderr: ${stderr}`);
          return undefined;
        },
        timeoutMs,
        () => new Error(`timed out after ${timeoutMs}ms waiting for ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`),
      );
    },
  };
}
