// The environment OpenCode runs with: the user's own (so their providers, keys and OpenCode
// config keep working) minus every secret of ours. A worker token must never reach OpenCode,
// whose tools run arbitrary shell commands for the model.

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

export function agentEnv(
  base: NodeJS.ProcessEnv,
  add: { marker: string; password: string },
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
  return env;
}
