// The one module that reads environment variables for configuration. Everything else gets
// a ConfigEnv snapshot, so tests can pass their own and precedence is written in one place.
import { homedir } from "node:os";
import { isAbsolute } from "node:path";

/** Names of every variable the config module honours (documented in docs/configuration.md). */
export const ENV_NAMES = {
  config: "OPENCODE_ORCHESTRATOR_CONFIG",
  statusAddress: "OPENCODE_ORCHESTRATOR_STATUS_ADDRESS",
  workerToken: "WORKER_TOKEN",
  convexUrl: "CONVEX_URL",
  workerName: "WORKER_NAME",
  workerTags: "WORKER_TAGS",
  opencodePath: "OPENCODE_PATH",
  workerSandbox: "WORKER_SANDBOX",
  adminKey: "CONVEX_ADMIN_KEY",
  deployKey: "CONVEX_DEPLOY_KEY",
  logLevel: "OPENCODE_ORCHESTRATOR_LOG_LEVEL",
  logFormat: "OPENCODE_ORCHESTRATOR_LOG_FORMAT",
  debug: "OPENCODE_ORCHESTRATOR_DEBUG",
  relayWindowMs: "OPENCODE_ORCHESTRATOR_RELAY_WINDOW_MS",
} as const;

/** Dev mode's numbers (seconds, a count, or US dollars), each the workers.json field of the same name with the same bounds. */
export const DEV_NUMBER_ENV = {
  max_concurrent_sessions: "WORKER_MAX_CONCURRENT_SESSIONS",
  agent_idle_timeout: "WORKER_AGENT_IDLE_TIMEOUT",
  turn_inactivity_timeout: "WORKER_TURN_INACTIVITY_TIMEOUT",
  heartbeat_interval: "WORKER_HEARTBEAT_INTERVAL",
  shutdown_timeout: "WORKER_SHUTDOWN_TIMEOUT",
  max_turn_cost: "MAX_TURN_COST",
  max_daily_cost: "MAX_DAILY_COST",
  // The issue names it so; it is a person-facing wait, not a worker mechanic.
  permission_timeout: "PERMISSION_TIMEOUT",
} as const;

export type DevNumberKey = keyof typeof DEV_NUMBER_ENV;

export type ConfigEnv = {
  /** Home folder used for `~` and the XDG defaults. */
  home: string;
  /** $XDG_CONFIG_HOME when set to an absolute path (the spec says relative values are ignored). */
  xdgConfigHome: string | undefined;
  xdgStateHome: string | undefined;
  xdgDataHome: string | undefined;
  /** OPENCODE_ORCHESTRATOR_CONFIG */
  configPath: string | undefined;
  /** OPENCODE_ORCHESTRATOR_STATUS_ADDRESS */
  statusAddress: string | undefined;
  /** Dev mode (.env) values; real environment variables win over the file. */
  workerToken: string | undefined;
  convexUrl: string | undefined;
  workerName: string | undefined;
  /** Dev mode: WORKER_TAGS, comma-separated (workers.json uses `tags`). */
  workerTags: string | undefined;
  /** Dev mode: the opencode executable (workers.json uses `opencode_path`). */
  opencodePath: string | undefined;
  /** Dev mode's numbers as written (checked against the schema's bounds in dev-config.ts). */
  devNumbers: Partial<Record<DevNumberKey, string>>;
  /** Dev mode: the agent's sandbox, auto|on|off (workers.json uses `sandbox`). */
  workerSandbox: string | undefined;
  /** Person-side commands: CONVEX_ADMIN_KEY, else CONVEX_DEPLOY_KEY (as `npx convex run` accepts). */
  adminKey: string | undefined;
  deployKey: string | undefined;
  logLevel: string | undefined;
  logFormat: string | undefined;
  /** Show stack traces of unexpected errors. */
  debug: boolean;
  /** Output batching window (tests and benchmarks). */
  relayWindowMs: number | undefined;
};

/** Empty values count as unset: `WORKER_TOKEN= cmd` should not shadow the .env file. */
function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === "" ? undefined : v;
}

function absolute(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = value(env, name);
  return v !== undefined && isAbsolute(v) ? v : undefined;
}

export function readConfigEnv(env: NodeJS.ProcessEnv = process.env): ConfigEnv {
  return {
    home: value(env, "HOME") ?? value(env, "USERPROFILE") ?? homedir(),
    xdgConfigHome: absolute(env, "XDG_CONFIG_HOME"),
    xdgStateHome: absolute(env, "XDG_STATE_HOME"),
    xdgDataHome: absolute(env, "XDG_DATA_HOME"),
    configPath: value(env, ENV_NAMES.config),
    statusAddress: value(env, ENV_NAMES.statusAddress),
    workerToken: value(env, ENV_NAMES.workerToken),
    convexUrl: value(env, ENV_NAMES.convexUrl),
    workerName: value(env, ENV_NAMES.workerName),
    workerTags: value(env, ENV_NAMES.workerTags),
    opencodePath: value(env, ENV_NAMES.opencodePath),
    devNumbers: Object.fromEntries(Object.entries(DEV_NUMBER_ENV).map(([k, name]) => [k, value(env, name)]).filter(([, v]) => v !== undefined)),
    workerSandbox: value(env, ENV_NAMES.workerSandbox),
    adminKey: value(env, ENV_NAMES.adminKey)?.trim(),
    deployKey: value(env, ENV_NAMES.deployKey)?.trim(),
    logLevel: value(env, ENV_NAMES.logLevel),
    logFormat: value(env, ENV_NAMES.logFormat),
    debug: value(env, ENV_NAMES.debug) !== undefined,
    relayWindowMs: boundedNumber(value(env, ENV_NAMES.relayWindowMs), RELAY_WINDOW_MAX_MS),
  };
}

/** A batching window past a minute would hold an answer back for no reason (and 1e400 is Infinity). */
const RELAY_WINDOW_MAX_MS = 60_000;

function boundedNumber(v: string | undefined, max: number): number | undefined {
  const n = Number(v);
  return v !== undefined && Number.isFinite(n) && n > 0 && n <= max ? n : undefined;
}
