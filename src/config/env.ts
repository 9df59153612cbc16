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
} as const;

export type ConfigEnv = {
  /** Home folder used for `~` and the XDG defaults. */
  home: string;
  /** $XDG_CONFIG_HOME when set to an absolute path (the spec says relative values are ignored). */
  xdgConfigHome: string | undefined;
  xdgStateHome: string | undefined;
  /** OPENCODE_ORCHESTRATOR_CONFIG */
  configPath: string | undefined;
  /** OPENCODE_ORCHESTRATOR_STATUS_ADDRESS */
  statusAddress: string | undefined;
  /** Dev mode (.env) values; real environment variables win over the file. */
  workerToken: string | undefined;
  convexUrl: string | undefined;
  workerName: string | undefined;
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
    configPath: value(env, ENV_NAMES.config),
    statusAddress: value(env, ENV_NAMES.statusAddress),
    workerToken: value(env, ENV_NAMES.workerToken),
    convexUrl: value(env, ENV_NAMES.convexUrl),
    workerName: value(env, ENV_NAMES.workerName),
  };
}
