// Test support for the worker's tests: the embedded backend as a process of its own
// (fixtures/backend-process.ts), so a test can kill it, or hold it back until it says, and a
// poll for a condition the worker reaches on its own.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { connectAdmin } from "../../src/backend/admin-client.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { DEFAULTS, type WorkerConfig } from "../../src/config/types.ts";
import { generateAdminKey } from "../../src/local-backend/backend.ts";
import { freePort } from "../e2e/backend-process.ts";
import { tempDir } from "../support/tmp.ts";

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

/**
 * A backend process on a free port with one worker added and approved, as a person would;
 * `keep: false` stops that backend afterwards (its data stays for the next one on the port).
 */
export async function approvedWorkerOnBackend(name: string, o: { keep: boolean }) {
  const port = await freePort();
  const adminKey = generateAdminKey();
  const dataDir = tempDir("backend-data-");
  const backend = startBackendProcess(port, adminKey, dataDir);
  const url = await backend.url;
  const admin = connectAdmin(url, adminKey);
  const added = await admin.addWorker(`${name}-tests`, name);
  await admin.approve(added.workerId);
  await admin.close();
  if (!o.keep) {
    backend.child.kill("SIGTERM");
    await backend.exited;
  }
  return { port, adminKey, dataDir, url, backend, token: WorkerToken.parse(added.token)! };
}

/** A worker's config as the tests use it: one session at a time, OpenCode never looked up. */
export function testWorkerConfig(name: string, token: WorkerToken, convexUrl: string): WorkerConfig {
  return {
    name,
    token,
    workingDirectory: tempDir("w-"),
    convexUrl,
    maxConcurrentSessions: 1,
    opencodePath: null,
    agentIdleTimeoutMs: DEFAULTS.agentIdleTimeoutMs,
    turnInactivityTimeoutMs: DEFAULTS.turnInactivityTimeoutMs,
    heartbeatIntervalMs: 5_000,
    origin: "workers[0]",
  };
}
