// What a worker's agent may see and write, as plain data: the bwrap argv and the macOS profile
// are both rendered from this plan, and `validate`/`status` describe it.
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import type { SandboxSettings } from "../../config/sandbox-settings.ts";

/** What the manager knows and the agent must not see. */
export type SandboxRequest = {
  /** Worker name, for messages. */
  worker: string;
  settings: SandboxSettings;
  /** Absolute paths of ours to hide: config/state/data folders, config and token files, other workers' folders. */
  secrets: string[];
};

export type HiddenPath = { path: string; kind: "dir" | "file" };

export type SandboxPlan = {
  directory: string;
  network: boolean;
  /** Made invisible: an empty folder over a folder, an unreadable node over a file. */
  hidden: HiddenPath[];
  /** Read-write; everything else is read-only. Includes the worker's folder first. */
  writable: string[];
  /** A private, empty temp folder per sandbox (TMPDIR points at it). */
  tmp: string;
  /**
   * Files the agent must still run although they lie where it sees nothing (the OpenCode
   * executable of a checkout under /tmp): mounted back read-only at their own path.
   */
  readable: string[];
};

export const SANDBOX_TMP = "/tmp";
const APP_DIR = "opencode-orchestrator";

function xdg(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const v = env[name];
  return v && isAbsolute(v) ? v : join(env.HOME || homedir(), fallback);
}

/** OpenCode's own folders under the agent's environment: it must write its data, cache, state and config. */
export function opencodeDirs(env: NodeJS.ProcessEnv): string[] {
  return [
    join(xdg(env, "XDG_DATA_HOME", ".local/share"), "opencode"),
    join(xdg(env, "XDG_CACHE_HOME", ".cache"), "opencode"),
    join(xdg(env, "XDG_STATE_HOME", ".local/state"), "opencode"),
    join(xdg(env, "XDG_CONFIG_HOME", ".config"), "opencode"),
  ];
}

/** The orchestrator's own config, state and data folders (the local backend keeps its data and admin key in the last). */
export function orchestratorDirs(env: NodeJS.ProcessEnv): string[] {
  return [
    join(xdg(env, "XDG_CONFIG_HOME", ".config"), APP_DIR),
    join(xdg(env, "XDG_STATE_HOME", ".local/state"), APP_DIR),
    join(xdg(env, "XDG_DATA_HOME", ".local/share"), APP_DIR),
  ];
}

export function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

function kindOf(path: string): "dir" | "file" | null {
  try {
    return statSync(path).isDirectory() ? "dir" : "file";
  } catch {
    return null;
  }
}

const depth = (p: string) => p.split(sep).length;

function readLine(path: string): string | null {
  try {
    return readFileSync(path, "utf8").split("\n")[0]!.trim();
  } catch {
    return null;
  }
}

/**
 * The repository folder a git worktree keeps its history in, when `dir` is a linked worktree
 * (`git worktree add`): its `.git` is a file pointing into the main repository's `.git`, where
 * every commit, ref and index of the worktree is written. That folder may lie in another
 * worker's folder (two workers on two worktrees of one repository). Null for anything else.
 *
 * The `.git` file lies in the agent's own folder, so on its word alone an agent could point the
 * next start's sandbox at any folder (the orchestrator's config, another worker's project) and
 * have it opened for writing. It is believed only when the repository names this folder as its
 * worktree in turn (`<repo>/worktrees/<name>/gitdir`, written by git for the person who ran
 * `git worktree add`), the repository is a real one, and no folder the agent may write lies
 * inside it (else the agent could have written that back-link itself).
 */
export function worktreeGitDir(dir: string, agentWritable: readonly string[]): string | null {
  const own = join(dir, ".git");
  const pointer = /^gitdir: (.+)$/.exec(readLine(own) ?? "");
  if (!pointer) return null;
  const admin = resolve(dir, pointer[1]!);
  const repo = dirname(dirname(admin));
  if (basename(dirname(admin)) !== "worktrees") return null;
  const common = readLine(join(admin, "commondir"));
  const back = readLine(join(admin, "gitdir"));
  if (!common || resolve(admin, common) !== repo || !back || resolve(admin, back) !== own) return null;
  if (kindOf(join(repo, "HEAD")) !== "file" || kindOf(join(repo, "objects")) !== "dir") return null;
  if ([dir, ...agentWritable].some((w) => isInside(resolve(w), repo))) return null;
  return repo;
}

/**
 * The plan for one agent. Paths that do not exist are left out (there is nothing to hide, and
 * bwrap cannot mount over them on a read-only root); the caller creates the folders it needs.
 */
export function buildPlan(directory: string, request: SandboxRequest, env: NodeJS.ProcessEnv, executables: string[] = []): SandboxPlan {
  const dir = resolve(directory);
  const agentWritable = [...opencodeDirs(env), ...request.settings.writable, SANDBOX_TMP];
  const gitDir = worktreeGitDir(dir, agentWritable);
  const writable = [dir, ...(gitDir ? [gitDir] : []), ...opencodeDirs(env), ...request.settings.writable].map((p) => resolve(p));
  const uniqueWritable = [...new Set(writable)].filter((p) => p === dir || kindOf(p) === "dir");
  const hidden: HiddenPath[] = [];
  const seen = new Set<string>();
  for (const raw of [...request.secrets, ...request.settings.hide]) {
    const path = resolve(raw);
    // Two workers may share a folder; hiding the other would hide this one's own.
    if (path === dir || seen.has(path)) continue;
    const kind = kindOf(path);
    if (!kind) continue;
    seen.add(path);
    hidden.push({ path, kind });
  }
  hidden.sort((a, b) => depth(a.path) - depth(b.path));
  const readable = [...new Set(executables.filter((p) => isAbsolute(p) && kindOf(p) === "file"))];
  return { directory: dir, network: request.settings.network, hidden, writable: uniqueWritable, tmp: SANDBOX_TMP, readable };
}
