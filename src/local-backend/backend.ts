// The embedded backend as one handle: engine (data, functions) + network (HTTP and sync
// WebSocket) + maintenance timer. The network can be stopped and started again on the same
// port while the engine keeps the data, which is how tests take the backend away mid-work.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { SchemaDefinition } from "convex/server";
import { ConvexError, convexToJson, jsonToConvex, type Value } from "convex/values";
import { silentLogger, type Logger } from "../util/log.ts";
import { registerSecret } from "../util/redact.ts";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeSecureFile } from "../util/secure-file.ts";
import { BackendDataError } from "./data-folder.ts";
import { openEngine, type Engine } from "./engine.ts";
import type { ModuleMap } from "./functions.ts";
import { openNetwork, type Network } from "./network.ts";
import { createRequestMemo, type RequestMemo } from "./request-memo.ts";
import { startSweeper, type Sweeper } from "./sweeper.ts";

export type LocalBackendOptions = {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Random (192 bits) unless given. */
  adminKey?: string;
  /** The functions to serve (tests pass fixtures). Default: the repo's convex/ (./modules.ts). */
  schema?: SchemaDefinition<any, boolean>;
  modules?: ModuleMap;
  /** An engine from an earlier backend: its data and functions carry over. */
  engine?: Engine;
  /**
   * Keep the data in this folder (created 0700; one SQLite file, 0600; the admin key is kept
   * there too). Absent: in memory, gone when the process ends.
   */
  dataDir?: string;
  /**
   * `admin:sweep` runs on a timer this often. Default: 5000 without a crons module, none with
   * one (convex/crons.ts schedules the sweep; its jobs run on their schedules). 0 turns the
   * timer and the crons off.
   */
  sweepIntervalMs?: number;
  /** Default 15000, like Convex. */
  pingIntervalMs?: number;
  log?: Logger;
};

export type LocalBackend = {
  /** `http://127.0.0.1:<port>`: what ConvexClient and ConvexHttpClient take. */
  readonly url: string;
  readonly adminKey: string;
  readonly port: number;
  readonly host: string;
  readonly engine: Engine;
  /** Call any function (internal ones too) as an admin, in-process. Throws like the clients do. */
  run(udfPath: string, args?: Record<string, Value>): Promise<Value>;
  /** One maintenance tick now (instead of waiting for the timer). */
  sweep(): Promise<void>;
  /** Drop every connection and stop listening; the data stays. */
  stopNetwork(): Promise<void>;
  /** Listen again on the same host and port; clients reconnect and resubscribe by themselves. */
  startNetwork(): Promise<void>;
  /** stopNetwork, wait `downMs` (default 0), startNetwork. */
  restartNetwork(opts?: { downMs?: number }): Promise<void>;
  /** Stop everything. Idempotent. */
  stop(): Promise<void>;
};

export const DEFAULT_HOST = "127.0.0.1";
export const ADMIN_KEY_FILE = "admin-key";

export function generateAdminKey(): string {
  // Shell-safe characters only: the `backend` command prints it for `eval "$(…)"`.
  return `oco_${randomBytes(24).toString("hex")}`;
}

export function validateAdminKey(key: string): string | undefined {
  if (key.length === 0) return "the admin key is empty";
  if (!/^[\x21-\x7e]+$/.test(key)) return "the admin key may only contain printable ASCII characters without spaces";
  return undefined;
}

function keyMatcher(adminKey: string): (value: string) => boolean {
  // Compare digests so the comparison is constant-time whatever the lengths.
  const digest = (s: string) => createHash("sha256").update(s).digest();
  const expected = digest(adminKey);
  return (value) => timingSafeEqual(digest(value), expected);
}

/** The URL clients use: a wildcard bind address is reached through loopback. */
export function clientUrl(host: string, port: number): string {
  const h = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${h.includes(":") ? `[${h}]` : h}:${port}`;
}

// Retried mutations are recognised per engine, so a backend that takes over an engine also
// takes over what its predecessor already ran.
const memos = new WeakMap<Engine, RequestMemo>();
function memoFor(engine: Engine): RequestMemo {
  let memo = memos.get(engine);
  if (!memo) memos.set(engine, (memo = createRequestMemo()));
  return memo;
}

// The admin key of a data folder: kept (0600) so tokens and admin commands survive a
// restart. A key given explicitly wins for this run and leaves the file alone.
function folderAdminKey(dataDir: string): string {
  const file = join(dataDir, ADMIN_KEY_FILE);
  if (existsSync(file)) {
    const key = readFileSync(file, "utf8").trim();
    const invalid = validateAdminKey(key);
    if (invalid) {
      throw new BackendDataError("corrupt", dataDir, `${file} does not hold a valid admin key (${invalid})`, `Put the key back, or delete ${file} to have a new one made (clients holding the old key must then be given the new one).`);
    }
    return key;
  }
  const key = generateAdminKey();
  writeSecureFile(file, `${key}\n`);
  return key;
}

export async function startLocalBackend(opts: LocalBackendOptions = {}): Promise<LocalBackend> {
  const log = opts.log ?? silentLogger;
  const host = opts.host ?? DEFAULT_HOST;
  if (opts.adminKey !== undefined) {
    const invalid = validateAdminKey(opts.adminKey);
    if (invalid) throw new Error(invalid);
  }
  const ownsEngine = !opts.engine;
  const engine = opts.engine ?? (await openOwnEngine(opts, log));
  let adminKey: string;
  try {
    adminKey = opts.adminKey ?? (engine.dataDir ? folderAdminKey(engine.dataDir) : generateAdminKey());
  } catch (e) {
    if (ownsEngine) engine.close();
    throw e;
  }
  registerSecret(adminKey);
  const isAdminKey = keyMatcher(adminKey);
  const memo = memoFor(engine);
  const open = (port: number) =>
    openNetwork({ host, port, engine, memo, isAdminKey, log, pingIntervalMs: opts.pingIntervalMs ?? 15_000 });

  let network: Network | undefined;
  try {
    network = await open(opts.port ?? 0);
  } catch (e) {
    if (ownsEngine) engine.close();
    throw e;
  }
  const port = network.port;
  const sweeper = await startMaintenance(engine, opts.sweepIntervalMs, log);
  let stopping: Promise<void> | undefined;

  const handle: LocalBackend = {
    url: clientUrl(host, port),
    adminKey,
    port,
    host,
    engine,
    run: (udfPath, args = {}) => runAsAdmin(engine, udfPath, args),
    sweep: () => sweeper.tick(),
    async stopNetwork() {
      const n = network;
      network = undefined;
      await n?.close();
    },
    async startNetwork() {
      if (stopping) throw new Error("the local backend was stopped");
      if (network) return;
      network = await open(port);
    },
    async restartNetwork(o = {}) {
      await handle.stopNetwork();
      if (o.downMs) await new Promise((r) => setTimeout(r, o.downMs));
      await handle.startNetwork();
    },
    stop() {
      // Reverse order of start: sockets first (no new work), then the timer.
      stopping ??= (async () => {
        try {
          await handle.stopNetwork();
        } finally {
          sweeper.stop();
          engine.stopSchedules();
          // An engine handed in belongs to the caller; one opened here closes with it.
          if (ownsEngine) engine.close();
        }
      })();
      return stopping;
    },
  };
  log.info("embedded backend listening", { url: handle.url });
  return handle;
}

async function openOwnEngine(opts: LocalBackendOptions, log: Logger): Promise<Engine> {
  // Loaded lazily: convex/ is only needed when no other functions are given.
  const functions = opts.modules ? { schema: opts.schema, modules: opts.modules } : await import("./modules.ts");
  return openEngine({ schema: functions.schema, modules: functions.modules, log, ...(opts.dataDir ? { dataDir: opts.dataDir } : {}) });
}

/** Scheduled functions, crons and the sweep timer; `sweepIntervalMs` as in LocalBackendOptions. */
async function startMaintenance(engine: Engine, sweepIntervalMs: number | undefined, log: Logger): Promise<Sweeper> {
  const maintenance = sweepIntervalMs !== 0;
  engine.startSchedules({ crons: maintenance });
  // An explicit interval (tests that need a quick sweep) is honoured even with crons loaded;
  // a duplicate sweep is harmless. Otherwise the timer only stands in for a missing crons module.
  const hasCrons = maintenance && (await engine.cronCount()) > 0;
  const sweepMs = !maintenance ? 0 : sweepIntervalMs !== undefined ? sweepIntervalMs : hasCrons ? 0 : 5000;
  return startSweeper({ engine, intervalMs: sweepMs, log });
}

/** Throws like the clients do: a ConvexError keeps its data, anything else is an Error. */
async function runAsAdmin(engine: Engine, udfPath: string, args: Record<string, Value>): Promise<Value> {
  const o = await engine.call({ udfPath, args: convexToJson(args), caller: { admin: true } });
  if (o.success) return jsonToConvex(o.value);
  if (o.errorData !== undefined) {
    const e = new ConvexError(jsonToConvex(o.errorData));
    e.message = o.errorMessage;
    throw e;
  }
  throw new Error(o.errorMessage);
}
