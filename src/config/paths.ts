// Where things live: the XDG config and state folders, `~` expansion, and the rule that
// relative paths in a config file are relative to that file's folder (not the cwd).
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ENV_NAMES, readConfigEnv, type ConfigEnv } from "./env.ts";

export const APP_DIR = "opencode-orchestrator";
export const WORKERS_FILE = "workers.json";

/** `$XDG_CONFIG_HOME/opencode-orchestrator` (default `~/.config/opencode-orchestrator`). */
export function configDir(env: ConfigEnv = readConfigEnv()): string {
  return join(env.xdgConfigHome ?? join(env.home, ".config"), APP_DIR);
}

/** `$XDG_STATE_HOME/opencode-orchestrator` (default `~/.local/state/opencode-orchestrator`): logs, pid files, runtime state. */
export function stateDir(env: ConfigEnv = readConfigEnv()): string {
  return join(env.xdgStateHome ?? join(env.home, ".local", "state"), APP_DIR);
}

/** `$XDG_DATA_HOME/opencode-orchestrator/backend` (default `~/.local/share/…`): the embedded backend's data. */
export function backendDataDir(env: ConfigEnv = readConfigEnv()): string {
  return join(env.xdgDataHome ?? join(env.home, ".local", "share"), APP_DIR, "backend");
}

export function defaultConfigPath(env: ConfigEnv = readConfigEnv()): string {
  return join(configDir(env), WORKERS_FILE);
}

export type ConfigPathOrigin = "flag" | "env" | "default";

/**
 * The workers.json to use: `--config` flag > OPENCODE_ORCHESTRATOR_CONFIG > XDG default.
 * Flag and env values are relative to the current directory (that is where the user typed them).
 */
export function resolveConfigPath(opts: { flag?: string; env?: ConfigEnv; cwd?: string }): { path: string; origin: ConfigPathOrigin; describe: string } {
  const env = opts.env ?? readConfigEnv();
  const cwd = opts.cwd ?? process.cwd();
  if (opts.flag !== undefined && opts.flag !== "") {
    return { path: resolvePath(opts.flag, cwd, env.home), origin: "flag", describe: "from --config" };
  }
  if (env.configPath !== undefined) {
    return { path: resolvePath(env.configPath, cwd, env.home), origin: "env", describe: `from ${ENV_NAMES.config}` };
  }
  return { path: defaultConfigPath(env), origin: "default", describe: "default location" };
}

/** `~` and `~/x` → home; other paths unchanged (`~user` is not expanded: shells do that, we don't guess). */
export function expandHome(p: string, home: string): string {
  if (p === "~") return home;
  if (p.startsWith("~/") || p.startsWith("~\\")) return join(home, p.slice(2));
  return p;
}

/** Expands `~`, then resolves a relative path against `baseDir`. */
export function resolvePath(p: string, baseDir: string, home: string): string {
  const expanded = expandHome(p.trim(), home);
  return isAbsolute(expanded) ? resolve(expanded) : resolve(baseDir, expanded);
}

/** Resolves a path written inside a config file: relative to that file's folder. */
export function resolveFromConfigFile(p: string, configFile: string, home: string): string {
  return resolvePath(p, dirname(configFile), home);
}
