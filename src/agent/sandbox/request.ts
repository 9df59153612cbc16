// From the validated config to what one worker's sandbox must hide, and a summary of it for
// `status` and `validate`.
import type { OrchestratorConfig, WorkerConfig } from "../../config/types.ts";
import { detectSandbox } from "./detect.ts";
import { realpathSync } from "node:fs";
import { readBoundedTextSync } from "../../util/bounded-read.ts";
import { join, resolve } from "node:path";
import { LOCAL_WORKERS_FILE, localWorkerFolders } from "../../config/local-workers.ts";
import { ENV_NAMES } from "../../config/env.ts";
import { parseEnvText } from "../../config/env-file.ts";
import { buildPlan, opencodeDirs, orchestratorDirs, type SandboxRequest } from "./plan.ts";
import { SANDBOX_DEFAULTS, type SandboxSettings } from "../../config/sandbox-settings.ts";
import { NETWORK_OFF_UNSUPPORTED } from "./wrap.ts";

/** Everything of ours a worker's agent must not see; read at each start, so a reload's new workers count. */
export function sandboxRequest(worker: WorkerConfig, config: Pick<OrchestratorConfig, "source" | "workers">, env: NodeJS.ProcessEnv = process.env): SandboxRequest {
  const secrets = [
    ...orchestratorDirs(env),
    config.source.kind === "file" ? config.source.path : config.source.envFile,
    ...config.workers.flatMap((w) => (w.tokenFile ? [w.tokenFile] : [])),
    ...config.workers.filter((w) => w !== worker && w.workingDirectory !== worker.workingDirectory).map((w) => w.workingDirectory),
    ...localWorkerFolders(join(orchestratorDirs(env)[0]!, LOCAL_WORKERS_FILE)).filter((f) => f !== realDir(worker.workingDirectory)),
    ...tokenEnvFile(worker.workingDirectory),
  ];
  return { worker: worker.name, settings: settingsOf(worker), secrets };
}

/** Past this a `.env` is not read for a token; no `.env` `dev` writes comes near it. */
const ENV_FILE_READ_LIMIT = 1024 * 1024;

/**
 * The folder's `.env` when it holds a worker token: `dev` keeps its token there, and it stays
 * when the folder moves to `up` or `orchestrate`, whose agent could otherwise read it.
 */
function tokenEnvFile(dir: string): string[] {
  const path = join(dir, ".env");
  try {
    // The folder is the agent's: its .env may be a FIFO or a device, which a plain read would hang on.
    return parseEnvText(readBoundedTextSync(path, ENV_FILE_READ_LIMIT)).values.get(ENV_NAMES.workerToken) ? [path] : [];
  } catch {
    return [];
  }
}

/** up records real paths; a worker of workers.json may name the same folder through a symlink. */
function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

const settingsOf = (w: WorkerConfig): SandboxSettings => w.sandbox ?? SANDBOX_DEFAULTS;

export type SandboxSummary = {
  mode: SandboxSettings["mode"];
  /** on: the agent runs sandboxed; off: by choice; exposed: auto without support; refused: the worker cannot start its agent. */
  state: "on" | "off" | "exposed" | "refused";
  /** bwrap or sandbox-exec when on. */
  kind?: string;
  /** Why not on, with the fix. */
  reason?: string;
  network: boolean;
  hidden: string[];
  writable: string[];
  /** Paths to hide that do not exist now (nothing to hide yet; hidden if present at the agent's next start). */
  absent?: string[];
};

export function sandboxSummary(worker: WorkerConfig, config: Pick<OrchestratorConfig, "source" | "workers">, env: NodeJS.ProcessEnv = process.env): SandboxSummary {
  const { mode, network } = settingsOf(worker);
  const base = { mode, network, hidden: [] as string[], writable: [] as string[] };
  if (mode === "off") return { ...base, state: "off" };
  if (!network) return { ...base, state: "refused", reason: NETWORK_OFF_UNSUPPORTED };
  const support = detectSandbox(env);
  if (!support.ok) return { ...base, state: mode === "on" ? "refused" : "exposed", reason: `${support.reason}. ${support.fix}` };
  const request = sandboxRequest(worker, config, env);
  const plan = buildPlan(worker.workingDirectory, request, env);
  // The agent's start creates our folders and OpenCode's, so they count even before they exist.
  const hidden = [...new Set([...orchestratorDirs(env), ...plan.hidden.map((h) => h.path)])];
  const writable = [...new Set([...plan.writable, ...opencodeDirs(env)])];
  const absent = [...request.secrets, ...request.settings.hide].map((p) => resolve(p)).filter((p) => !hidden.includes(p) && p !== plan.directory);
  return { ...base, state: "on", kind: support.kind, hidden, writable: [...writable, `${plan.tmp} (private)`], absent: [...new Set(absent)] };
}

/** The short form `status` and /status show: mode, state, and the tool in use. */
export type SandboxStatus = { mode: SandboxSettings["mode"]; state: SandboxSummary["state"]; kind?: string };

export function sandboxStatus(name: string, config: Pick<OrchestratorConfig, "source" | "workers">): SandboxStatus | null {
  const w = config.workers.find((x) => x.name === name);
  if (!w) return null;
  const s = sandboxSummary(w, config);
  return { mode: s.mode, state: s.state, ...(s.kind ? { kind: s.kind } : {}) };
}

export function formatSandboxStatus(s: SandboxStatus | null | undefined): string {
  if (!s) return "-";
  return s.kind ? `${s.state} (${s.kind})` : s.state;
}

/** `validate`'s text: what a worker's sandbox would hide and expose. */
export function describeSandbox(name: string, s: SandboxSummary): string[] {
  const head = `${name}: sandbox ${s.mode} → ${formatSandboxStatus(s)}${s.network ? "" : ", network off"}`;
  if (s.state !== "on") return [head + (s.reason ? ` — ${s.reason}` : "")];
  return [
    `${head}; network ${s.network ? "kept (the model provider needs it)" : "cut"}; everything else read-only`,
    ...s.hidden.map((p) => `  hidden:   ${p}`),
    ...s.writable.map((p) => `  writable: ${p}`),
    ...(s.absent ?? []).map((p) => `  hidden when present: ${p}`),
  ];
}
