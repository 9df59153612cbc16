// Test support for the worker's tests: the embedded backend as a process of its own
// (fixtures/backend-process.ts), so a test can kill it, or hold it back until it says, and a
// poll for a condition the worker reaches on its own.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const children: ChildProcess[] = [];

/**
 * Kills every backend process still running; each test file calls it in its own afterAll (this
 * module is loaded once per run, so a hook registered here would belong to the first file only).
 */
export function killBackendProcesses(): void {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

export type BackendProcess = { url: Promise<string>; exited: Promise<void>; child: ChildProcess; listen(): void };

/** A backend process on `port` with its data in `dataDir`; with `held`, it listens once told to. */
export function startBackendProcess(port: number, adminKey: string, dataDir: string, held = false): BackendProcess {
  const args = [join(import.meta.dirname, "fixtures/backend-process.ts"), String(port), adminKey, dataDir];
  const child = spawn(process.execPath, held ? [...args, "on-stdin"] : args, { stdio: ["pipe", "pipe", "inherit"] });
  children.push(child);
  const url = new Promise<string>((res, rej) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) res(out.split("\n")[0]!);
    });
    child.once("exit", (code) => rej(new Error(`backend process exited early (${code})`)));
  });
  const exited = new Promise<void>((res) => child.once("exit", () => res()));
  return { url, exited, child, listen: () => child.stdin!.write("go\n") };
}

/** The first truthy value of `check`, polled; fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
