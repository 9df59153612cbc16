// `up`: the main job on one machine in one command. The user's persistent embedded backend
// (found, or started as a process of its own that outlives this one), a worker per folder
// (created and approved on the first run, reused afterwards), run by the same foreground
// runner as `orchestrate`. Ctrl+C drains the workers and leaves the backend to the others.
import { realpathSync, statSync } from "node:fs";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { connectAdmin } from "../backend/admin-client.ts";
import { readConfigEnv } from "../config/env.ts";
import { localWorkersPath, readLocalWorkers } from "../config/local-workers.ts";
import { backendDataDir } from "../config/paths.ts";
import { statusAddressForClient } from "../config/status-address.ts";
import { WorkerToken } from "../config/token.ts";
import { DEFAULTS, type OrchestratorConfig, type WorkerConfig } from "../config/types.ts";
import { ensureLocalBackend, LOG_FILE, selfCommand, stopLocalBackend } from "../local-backend/discovery.ts";
import { EXIT, RuntimeFailure, UsageError } from "../util/errors.ts";
import { findOnPath } from "../util/which.ts";
import type { CommandContext } from "./command-spec.ts";
import { DEFAULT_ADMIN_TIMEOUT_MS, type upOptions } from "./command-table.ts";
import { runWorkers } from "./run-workers.ts";
import { claimWorkers } from "./up-claims.ts";
import { checkOpencode } from "./up-opencode.ts";
import { startUpWeb, webAddressFlag } from "./up-web.ts";
import { ensureFolderWorker, type UpWorker } from "./up-workers.ts";

type UpContext = CommandContext<typeof upOptions>;

/** Each folder as the one real path it names (a symlink and its target are one worker), once. */
function projectFolders(positionals: string[]): string[] {
  const wanted = positionals.length > 0 ? positionals : [process.cwd()];
  const out: string[] = [];
  for (const raw of wanted) {
    let real: string;
    try {
      real = realpathSync(resolve(raw));
      if (!statSync(real).isDirectory()) throw new Error("not a folder");
    } catch {
      throw new UsageError(`"${raw}" is not a folder`, { command: "up", hint: "Name existing project folders (default: the current folder)." });
    }
    if (!out.includes(real)) out.push(real);
  }
  return out;
}

/** The command line a person types to run this program again, as they ran it. */
export function selfInvocation(): string {
  const [cmd, pre] = selfCommand();
  const shown = (p: string) => {
    const rel = relative(process.cwd(), p);
    return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? `./${rel}` : p;
  };
  if (pre.length > 0) return `${basename(cmd)} ${shown(pre[0]!)}`;
  // Installed on PATH, the bare name is what a person types; else the path they ran.
  const onPath = findOnPath(basename(cmd));
  return onPath !== undefined && realpathSync(onPath) === cmd ? basename(cmd) : shown(cmd);
}

function workerConfig(w: UpWorker, url: string, opencodePath: string | null): WorkerConfig {
  const token = WorkerToken.parse(w.token);
  if (!token) throw new RuntimeFailure(`the token recorded for ${w.folder} in ${localWorkersPath()} is not a token`);
  return {
    name: w.name,
    token,
    workingDirectory: w.folder,
    convexUrl: url,
    maxConcurrentSessions: DEFAULTS.maxConcurrentSessions,
    opencodePath,
    agentIdleTimeoutMs: DEFAULTS.agentIdleTimeoutMs,
    turnInactivityTimeoutMs: DEFAULTS.turnInactivityTimeoutMs,
    heartbeatIntervalMs: DEFAULTS.heartbeatIntervalMs,
    origin: w.folder,
  };
}

export async function run(ctx: UpContext): Promise<number> {
  const dataDir = backendDataDir();
  if (ctx.flags["stop-backend"]) {
    if (ctx.positionals.length > 0) throw new UsageError("--stop-backend takes no folder", { command: "up" });
    const stopped = await stopLocalBackend(dataDir);
    ctx.stderr(stopped ? `stopped the local backend (data in ${dataDir})` : `no local backend is running (data in ${dataDir})`);
    return EXIT.ok;
  }
  const folders = projectFolders(ctx.positionals);
  const webAddress = webAddressFlag(ctx.flags["web-address"]);
  if (readConfigEnv().convexUrl !== undefined) {
    ctx.log.warn("CONVEX_URL is set, but up always uses the local backend; for a Convex deployment run workers with dev or orchestrate (README).");
  }

  // A damaged record file stops up before anything starts.
  await readLocalWorkers();
  const opencode = checkOpencode(folders);
  for (const line of opencode.lines) ctx.log.warn(line);

  const backend = await ensureLocalBackend(dataDir, ctx.log);
  ctx.log.info(
    backend.started
      ? `started the local backend at ${backend.url} (pid ${backend.pid}; data and log in ${dataDir}); it keeps running after up stops`
      : `using the local backend at ${backend.url} (pid ${backend.pid}; data in ${dataDir})`,
  );

  const admin = connectAdmin(backend.url, backend.adminKey, { timeoutMs: DEFAULT_ADMIN_TIMEOUT_MS });
  const workers: UpWorker[] = [];
  try {
    const known = await admin.list();
    for (const folder of folders) workers.push(await ensureFolderWorker(admin, dataDir, folder, known, ctx.log));
  } finally {
    await admin.close();
  }

  const status = await statusAddressForClient();
  const explicitOpencode = readConfigEnv().opencodePath ?? null;
  const config: OrchestratorConfig = {
    source: { kind: "file", path: localWorkersPath() },
    workers: workers.map((w) => workerConfig(w, backend.url, explicitOpencode)),
    shutdownTimeoutMs: DEFAULTS.devShutdownTimeoutMs,
    statusAddress: status.value,
    warnings: [],
    rejected: [],
  };

  const claims = claimWorkers(workers);
  const web = await startUpWeb({ url: backend.url, adminKey: backend.adminKey, address: webAddress, log: ctx.log });
  const me = selfInvocation();
  const lines = ["", "Running:"];
  for (const w of workers) lines.push(`  ${w.name}  ${w.folder}${w.created ? "  (new worker, approved)" : ""}`);
  lines.push("", "Talk to it from another terminal:");
  for (const w of workers) lines.push(`  ${me} chat --worker ${w.name} "your prompt"`);
  if (web) lines.push("", "Or in a browser (this link logs you in; keep it to yourself):", `  ${web.loginUrl}`);
  lines.push(
    "",
    `Workers: ${me} status   Backend log: ${join(dataDir, LOG_FILE)}   Stop the backend: ${me} up --stop-backend`,
    "Ctrl+C stops the workers (running answers get to finish); the backend keeps running for other `up`s.",
    "",
  );
  // A JSON log stays JSON: the same facts as one log line.
  if ((ctx.flags["log-format"] ?? readConfigEnv().logFormat) === "json") {
    ctx.log.info("up: running", {
      workers: workers.map((w) => ({ name: w.name, folder: w.folder, created: w.created, chat: `${me} chat --worker ${w.name}` })),
      web: web?.loginUrl ?? null,
    });
  } else ctx.stderr(lines.join("\n"));
  try {
    return await runWorkers(ctx, config);
  } finally {
    await web?.stop();
    claims.release();
  }
}
