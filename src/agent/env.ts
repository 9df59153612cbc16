// The environment OpenCode runs with: the user's own (so their providers, keys and OpenCode
// config keep working) minus every secret of ours. A worker token must never reach OpenCode,
// whose tools run arbitrary shell commands for the model.
import { RuntimeFailure } from "../util/errors.ts";

/** Marks an OpenCode process as started by us; its value identifies one server (leftover reaping). */
export const AGENT_MARKER_VAR = "OPENCODE_ORCHESTRATOR_AGENT";

const SECRET_NAMES = new Set(["WORKER_TOKEN", "CONVEX_ADMIN_KEY", "CONVEX_DEPLOY_KEY"]);
const OUR_PREFIX = "OPENCODE_ORCHESTRATOR_";
// The secret part of a worker token (see src/config/token.ts), wherever it hides in a value.
const TOKEN_SECRET = /secret_[A-Za-z0-9_-]+/;

/** True when a variable must not be passed to OpenCode. */
export function isSecretVar(name: string, value: string): boolean {
  if (SECRET_NAMES.has(name.toUpperCase())) return true;
  if (name.toUpperCase().startsWith(OUR_PREFIX)) return true;
  return TOKEN_SECRET.test(value);
}

/** OpenCode's inline config: merged over every config file it reads, so the user's own stay in force. */
const INLINE_CONFIG = "OPENCODE_CONFIG_CONTENT";

/**
 * The user's inline OpenCode config (if any) with the worker's `permission` rules laid over its
 * own: a rule for the same permission is replaced, patterns within one are merged. Throws a
 * RuntimeFailure when the user's value is not a JSON object.
 */
export function withPermission(inline: string | undefined, permission: Record<string, unknown>): string {
  let config: Record<string, unknown> = {};
  if (inline !== undefined && inline.trim() !== "") {
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(inline);
    } catch {
      // reported below, like any value that is not an object
    }
    if (!isPlainObject(parsed)) {
      throw new RuntimeFailure(`${INLINE_CONFIG} in the environment is not a JSON object, so the worker's "permission" rules cannot be added to it`, {
        hint: `Fix ${INLINE_CONFIG} (OpenCode reads it as JSON), or unset it.`,
      });
    }
    config = parsed;
  }
  // A single rule for everything ("permission": "allow") is the rule for "*".
  const theirs = typeof config.permission === "string" ? { "*": config.permission } : isPlainObject(config.permission) ? config.permission : {};
  const merged: Record<string, unknown> = { ...theirs };
  for (const [name, rule] of Object.entries(permission)) {
    const before = merged[name];
    merged[name] = isPlainObject(rule) && isPlainObject(before) ? { ...before, ...rule } : rule;
  }
  return JSON.stringify({ ...config, permission: merged });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function agentEnv(
  base: NodeJS.ProcessEnv,
  add: { marker: string; password: string; permission?: Record<string, unknown> },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || isSecretVar(name, value)) continue;
    env[name] = value;
  }
  // Our own credentials for this server replace whatever the user had.
  env.OPENCODE_SERVER_USERNAME = "opencode";
  env.OPENCODE_SERVER_PASSWORD = add.password;
  env.OPENCODE_DISABLE_AUTOUPDATE = "1";
  env[AGENT_MARKER_VAR] = add.marker;
  if (add.permission && Object.keys(add.permission).length > 0) env[INLINE_CONFIG] = withPermission(env[INLINE_CONFIG], add.permission);
  return env;
}
