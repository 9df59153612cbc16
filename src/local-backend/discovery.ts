// Finding the user's persistent embedded backend, and starting it when none runs. It runs as
// its own detached process (`backend --data <folder>`), so every `up` (and `chat`, `admin`)
// shares one backend and stopping one `up` never takes the data away from the others. Its
// address is recorded in a runtime file next to its data. Starts are taken in turn (a lock
// file), and the data folder's own lock (persistence.ts) never lets two backends open it.
import { spawn } from "node:child_process";
import { closeSync, existsSync, fstatSync, linkSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { z } from "zod";
import { connectAdmin } from "../backend/admin-client.ts";
import { ENV_NAMES } from "../config/env.ts";
import { errorMessage, RuntimeFailure } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { pidAlive } from "../util/process-group.ts";
import { registerSecret } from "../util/redact.ts";
import { ensureSecureDir, SECRET_FILE_MODE, writeSecureFile } from "../util/secure-file.ts";
import { ADMIN_KEY_FILE, clientUrl, DEFAULT_HOST } from "./backend.ts";

export const RUNTIME_FILE = "runtime.json";
export const LOG_FILE = "backend.log";
/** Both files are a few hundred bytes; anything larger is not ours. */
const MAX_SMALL_FILE = 64 * 1024;
/** How long a starting backend may take to answer (opening a large data file included). */
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
  for (const name of [ENV_NAMES.adminKey, ENV_NAMES.deployKey, ENV_NAMES.workerToken]) delete env[name];
  return env;
}

/** The last lines of the log, read from its end (it may be megabytes). */
function tail(path: string, lines = 8, bytes = 8 * 1024): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, bytes));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString("utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Each start, a log past this size is moved to backend.log.1, so weeks of running stay bounded. */
const LOG_ROTATE_BYTES = 5 * 1024 * 1024;

function openLog(dataDir: string): { fd: number; path: string } {
  const path = join(dataDir, LOG_FILE);
  try {
    if (statSync(path).size > LOG_ROTATE_BYTES) renameSync(path, `${path}.1`);
  } catch {
    // no log yet
  }
  return { fd: openSync(path, "a", SECRET_FILE_MODE), path };
}

function writeRuntime(dataDir: string, info: RuntimeInfo): void {
  writeSecureFile(join(dataDir, RUNTIME_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

/**
 * Starts `backend --data <dataDir> --port <port>` detached (its own process group, so a Ctrl+C
 * in this terminal does not reach it; cwd the data folder, so it holds no project folder),
 * stderr appended to backend.log. Its stdout (the URL and key it prints) goes nowhere: a pipe
 * would outlive this `up` and kill the backend with EPIPE on its first write after. It is
 * recorded as soon as it exists, so an `up` interrupted while it starts leaves no backend nobody
 * can find. Resolves once it answers with the folder's key; rejects with the log's last lines
 * when it exits first.
 */
async function spawnBackend(dataDir: string, port: number, log: Logger): Promise<LocalBackendTarget> {
  const { fd: logFd, path: logPath } = openLog(dataDir);
  const [cmd, pre] = selfCommand();
  const args = [...pre, "backend", "--data", dataDir, "--port", String(port), "--log-format", "text"];
  log.debug("starting the local backend", { command: [cmd, ...args].join(" ") });
  const child = spawn(cmd, args, { detached: true, cwd: dataDir, stdio: ["ignore", "ignore", logFd], env: backendEnv() });
  closeSync(logFd);
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  const url = clientUrl(DEFAULT_HOST, port);
  if (child.pid !== undefined) writeRuntime(dataDir, { url, pid: child.pid, startedAt: new Date().toISOString() });
  let exited: number | null | undefined;
  child.once("exit", (code) => (exited = code));
  child.unref();
  try {
    const failed = await Promise.race([spawnError, sleep(50).then(() => undefined)]);
    if (failed) throw new RuntimeFailure(`cannot start the local backend: ${errorMessage(failed)}`);
    const ready = await waitUntilServing(dataDir, child.pid!, () => exited !== undefined);
    if (ready) return ready;
    if (exited !== undefined) throw new BackendStartFailed(exited, tail(logPath), logPath);
    throw new RuntimeFailure(`the local backend did not start within ${START_TIMEOUT_MS / 1000} s`, { hint: `See ${logPath}.` });
  } catch (e) {
    if (exited === undefined && child.exitCode === null) child.kill("SIGTERM");
    throw e;
  }
}

/** Polls until the backend with this pid answers with the folder's key; undefined once `gone()` or the deadline passes. */
async function waitUntilServing(dataDir: string, pid: number, gone: () => boolean): Promise<LocalBackendTarget | undefined> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!gone() && Date.now() < deadline) {
    const ready = await findLocalBackend(dataDir);
    if (ready && ready.pid === pid) return ready;
    await sleep(100);
  }
  return undefined;
}

/**
 * The recorded process is a backend on this data folder (Linux: its command line says so), not
 * a process that got the pid after a restart. Elsewhere a live pid has to do.
 */
function isBackendProcess(pid: number, dataDir: string): boolean {
  if (!pidAlive(pid)) return false;
  if (process.platform !== "linux") return true;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.includes("backend") && argv.includes(dataDir);
  } catch {
    return false;
  }
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

/** `wanted` when nothing listens there now, else a free port (the kernel's pick). */
function freePort(wanted: number): Promise<number> {
  return new Promise((resolve) => {
    const probe = (port: number, fallback: boolean) => {
      const s = createServer();
      s.once("error", () => (fallback ? probe(0, false) : resolve(0)));
      s.listen(port, DEFAULT_HOST, () => {
        const got = (s.address() as { port: number }).port;
        s.close(() => resolve(got));
      });
    };
    probe(wanted, wanted !== 0);
  });
}

const START_LOCK = "starting.lock";
/** An `up` holding the start lock longer than this (a backend that takes a minute to open) is waited for no more. */
const START_LOCK_WAIT_MS = START_TIMEOUT_MS + 10_000;

/**
 * One `up` at a time starts the backend: the lock file holds its pid, written whole before the
 * file appears (hard link of a finished temp file), so a reader never sees it empty. A lock
 * whose `up` is gone (killed mid-start) is taken over.
 */
async function withStartLock<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(dataDir, START_LOCK);
  const temp = join(dataDir, `.${START_LOCK}.${process.pid}`);
  writeSecureFile(temp, String(process.pid));
  const deadline = Date.now() + START_LOCK_WAIT_MS;
  try {
    for (;;) {
      try {
        linkSync(temp, lock);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const holder = Number(readSmall(lock));
      if (!Number.isInteger(holder) || holder <= 0 || !pidAlive(holder)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new RuntimeFailure(`another up (pid ${holder}) has been starting the local backend for over a minute`, { hint: `See ${join(dataDir, LOG_FILE)}.` });
      }
      await sleep(200);
    }
  } finally {
    rmSync(temp, { force: true });
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * The user's local backend: the running one, or a new one started on the port it had last time
 * (so remembered chat sessions, which are kept per URL, still apply) when that is free, else on
 * a free port. Starts are serialised between `up`s, so two at once share one backend.
 */
export async function ensureLocalBackend(dataDir: string, log: Logger): Promise<LocalBackendTarget & { started: boolean }> {
  const running = await findLocalBackend(dataDir);
  if (running) return { ...running, started: false };
  ensureSecureDir(dataDir);
  return withStartLock(dataDir, async () => {
    const other = await findLocalBackend(dataDir);
    if (other) return { ...other, started: false };
    const previous = readRuntimeFile(dataDir);
    // Recorded and alive but not answering yet: still starting (its `up` may have been
    // interrupted); a second one would only be refused by the folder's lock.
    if (previous && isBackendProcess(previous.pid, dataDir)) {
      const starting = await waitUntilServing(dataDir, previous.pid, () => !pidAlive(previous.pid));
      if (starting) return { ...starting, started: false };
      if (pidAlive(previous.pid)) {
        throw new RuntimeFailure(`the local backend (pid ${previous.pid}) runs but does not answer at ${previous.url}`, {
          hint: `See ${join(dataDir, LOG_FILE)}; stop it (kill ${previous.pid}) and run up again.`,
        });
      }
    }
    const previousPort = previous ? Number(new URL(previous.url).port) || 0 : 0;
    let lastError: unknown;
    // A second try covers a port taken between the probe and the backend's bind.
    for (let attempt = 0; attempt < 2; attempt++) {
      const port = await freePort(attempt === 0 ? previousPort : 0);
      try {
        return { ...(await spawnBackend(dataDir, port, log)), started: true };
      } catch (e) {
        lastError = e;
        if (!(e instanceof BackendStartFailed && /already in use/.test(e.logTail))) throw e;
      }
    }
    throw lastError;
  });
}

/**
 * Stops the recorded backend (SIGTERM: it finishes what it commits and releases its folder) and
 * waits for it to exit. Returns false when none was running.
 */
export async function stopLocalBackend(dataDir: string, timeoutMs = 15_000): Promise<boolean> {
  // By its record and command line, not by an answer: a backend that hangs must be stoppable too.
  const info = readRuntimeFile(dataDir);
  if (!info || !isBackendProcess(info.pid, dataDir)) return false;
  process.kill(info.pid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(info.pid)) {
    if (Date.now() > deadline) {
      process.kill(info.pid, "SIGKILL");
      break;
    }
    await sleep(100);
  }
  return true;
}
