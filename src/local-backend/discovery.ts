// Finding the user's persistent embedded backend, and starting it when none runs. It runs as
// its own detached process (`backend --data <folder>`), so every `up` (and `chat`, `admin`)
// shares one backend and stopping one `up` never takes the data away from the others. Its
// address is recorded in a runtime file next to its data; the lock on the data folder (see
// persistence.ts) guarantees at most one backend per folder even when two `up`s race.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { connectAdmin } from "../backend/admin-client.ts";
import { errorMessage, RuntimeFailure } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { pidAlive } from "../util/process-group.ts";
import { registerSecret } from "../util/redact.ts";
import { ensureSecureDir, SECRET_FILE_MODE, writeSecureFile } from "../util/secure-file.ts";
import { ADMIN_KEY_FILE } from "./backend.ts";

export const RUNTIME_FILE = "runtime.json";
export const LOG_FILE = "backend.log";
/** Both files are a few hundred bytes; anything larger is not ours. */
const MAX_SMALL_FILE = 64 * 1024;
/** How long a starting backend may take to print its address (opening a large data file included). */
const START_TIMEOUT_MS = 60_000;
/** How long a running backend may take to answer the "is it ours?" call. */
const PROBE_TIMEOUT_MS = 5_000;

const runtimeSchema = z.object({
  url: z.string().describe("The address clients use, http://127.0.0.1:<port>"),
  pid: z.number().int().positive().describe("The backend process"),
  startedAt: z.string().describe("When it started (ISO 8601)"),
});
export type RuntimeInfo = z.infer<typeof runtimeSchema>;

export type LocalBackendTarget = { url: string; adminKey: string; pid: number; dataDir: string };

function readSmall(path: string): string | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size > MAX_SMALL_FILE) return undefined;
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

export function readRuntimeFile(dataDir: string): RuntimeInfo | undefined {
  const text = readSmall(join(dataDir, RUNTIME_FILE));
  if (text === undefined) return undefined;
  try {
    const r = runtimeSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

function readAdminKey(dataDir: string): string | undefined {
  const key = readSmall(join(dataDir, ADMIN_KEY_FILE))?.trim();
  if (!key) return undefined;
  registerSecret(key);
  return key;
}

/**
 * What the data folder says about a running backend, without asking it: enough for a person's
 * command, which reports an unreachable backend itself.
 */
export function recordedLocalBackend(dataDir: string): LocalBackendTarget | undefined {
  const info = readRuntimeFile(dataDir);
  const adminKey = readAdminKey(dataDir);
  if (!info || !adminKey) return undefined;
  return { url: info.url, adminKey, pid: info.pid, dataDir };
}

/**
 * The recorded backend, if its process lives and it accepts this folder's admin key: only the
 * backend holding this folder's data has that key, so an answer proves it is ours (a port
 * reused by another program, or another backend, would refuse).
 */
export async function findLocalBackend(dataDir: string): Promise<LocalBackendTarget | undefined> {
  const rec = recordedLocalBackend(dataDir);
  if (!rec || !pidAlive(rec.pid)) return undefined;
  const admin = connectAdmin(rec.url, rec.adminKey, { timeoutMs: PROBE_TIMEOUT_MS });
  try {
    await admin.list();
    return rec;
  } catch {
    return undefined;
  } finally {
    await admin.close().catch(() => {});
  }
}

/** How to run this same program again: the Node bundle needs its script, the binary is itself. */
export function selfCommand(): [string, string[]] {
  const script = process.argv[1];
  // A compiled binary's argv[1] names its embedded entry (/$bunfs/…, B:/~BUN/… on Windows),
  // which exists only inside that binary.
  const embedded = script !== undefined && (script.startsWith("/$bunfs/") || script.includes("~BUN"));
  if (script && !embedded && existsSync(script) && statSync(script).isFile() && script !== process.execPath) return [process.execPath, [script]];
  return [process.execPath, []];
}

/** The environment of the backend process: never a key it would take instead of its folder's. */
function backendEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ["CONVEX_ADMIN_KEY", "CONVEX_DEPLOY_KEY", "WORKER_TOKEN"]) delete env[name];
  return env;
}

function tail(path: string, lines = 8): string {
  const text = readSmall(path) ?? "";
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * Starts `backend --data <dataDir>` detached (its own process group, so a Ctrl+C in this
 * terminal does not reach it), stderr appended to backend.log in the folder. Resolves with its
 * URL once it prints it; rejects with the log's last lines when it exits first.
 */
function spawnBackend(dataDir: string, port: number, log: Logger): Promise<{ url: string; pid: number }> {
  ensureSecureDir(dataDir);
  const logPath = join(dataDir, LOG_FILE);
  const logFd = openSync(logPath, "a", SECRET_FILE_MODE);
  const [cmd, pre] = selfCommand();
  const args = [...pre, "backend", "--data", dataDir, "--port", String(port), "--log-format", "text"];
  log.debug("starting the local backend", { command: [cmd, ...args].join(" ") });
  const child = spawn(cmd, args, { detached: true, stdio: ["ignore", "pipe", logFd], env: backendEnv() });
  closeSync(logFd);
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => done(new RuntimeFailure(`the local backend did not start within ${START_TIMEOUT_MS / 1000} s`, { hint: `See ${logPath}.` })), START_TIMEOUT_MS);
    const done = (e: Error | undefined, url?: string) => {
      clearTimeout(timer);
      child.stdout!.removeAllListeners("data");
      child.removeAllListeners("exit");
      // The backend prints nothing more on stdout; dropping the pipe lets this process exit alone.
      child.stdout!.destroy();
      child.unref();
      if (e) {
        if (child.exitCode === null) child.kill("SIGTERM");
        reject(e);
      } else resolve({ url: url!, pid: child.pid! });
    };
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString("utf8");
      const m = /^CONVEX_URL=(\S+)$/m.exec(out);
      if (m && /^CONVEX_ADMIN_KEY=/m.test(out)) done(undefined, m[1]);
    });
    child.on("error", (e) => done(new RuntimeFailure(`cannot start the local backend: ${errorMessage(e)}`)));
    child.on("exit", (code) => done(new BackendStartFailed(code, tail(logPath), logPath)));
  });
}

/** The backend process ended before it served; its log says why (port taken, folder locked, damaged data). */
export class BackendStartFailed extends RuntimeFailure {
  readonly logTail: string;
  constructor(code: number | null, logTail: string, logPath: string) {
    super(`the local backend exited (code ${code}) before it served${logTail ? `:\n${logTail}` : ""}`, { hint: `Its full log is ${logPath}.` });
    this.logTail = logTail;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The user's local backend: the running one, or a new one started on the port it had last time
 * (so remembered chat sessions, which are kept per URL, still apply), else on a free port.
 * When another `up` started one at the same moment, this one's start is refused by the folder's
 * lock and the other's is used.
 */
export async function ensureLocalBackend(dataDir: string, log: Logger): Promise<LocalBackendTarget & { started: boolean }> {
  const running = await findLocalBackend(dataDir);
  if (running) return { ...running, started: false };
  const previous = readRuntimeFile(dataDir);
  const previousPort = previous ? Number(new URL(previous.url).port) : 0;
  let lastError: unknown;
  for (const port of previousPort > 0 ? [previousPort, 0] : [0]) {
    try {
      const { url, pid } = await spawnBackend(dataDir, port, log);
      const info: RuntimeInfo = { url, pid, startedAt: new Date().toISOString() };
      writeSecureFile(join(dataDir, RUNTIME_FILE), `${JSON.stringify(info, null, 2)}\n`);
      const adminKey = readAdminKey(dataDir);
      if (!adminKey) throw new RuntimeFailure(`the local backend started but ${join(dataDir, ADMIN_KEY_FILE)} is missing`);
      return { url, adminKey, pid, dataDir, started: true };
    } catch (e) {
      lastError = e;
      if (!(e instanceof BackendStartFailed)) throw e;
      // Lost a race with another `up`: wait for the winner to record its address.
      if (/already using/.test(e.logTail)) {
        for (let i = 0; i < 50; i++) {
          await sleep(200);
          const other = await findLocalBackend(dataDir);
          if (other) return { ...other, started: false };
        }
        throw e;
      }
    }
  }
  throw lastError;
}

/**
 * Stops the recorded backend (SIGTERM: it finishes what it commits and releases its folder) and
 * waits for it to exit. Returns false when none was running.
 */
export async function stopLocalBackend(dataDir: string, timeoutMs = 15_000): Promise<boolean> {
  const running = await findLocalBackend(dataDir);
  if (!running) return false;
  process.kill(running.pid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(running.pid)) {
    if (Date.now() > deadline) {
      process.kill(running.pid, "SIGKILL");
      break;
    }
    await sleep(100);
  }
  return true;
}
