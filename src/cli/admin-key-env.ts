// dev and orchestrate never need the backend's admin key, but a person following the one-machine
// flow may have exported it in the same terminal. Kept in our environment, every OpenCode server
// and tool we start could inherit it (and with it, control of every worker), so it is dropped
// at start, with a warning: the kernel keeps the environment a process started with
// (/proc/<pid>/environ), which the agent can still read until it runs sandboxed (issue 14).
import { ENV_NAMES } from "../config/env.ts";
import type { Logger } from "../util/log.ts";

const ADMIN_SECRETS = [ENV_NAMES.adminKey, ENV_NAMES.deployKey] as const;

/** Removes the admin/deploy key from `env` (process.env by default); returns the names removed. */
export function dropAdminKeys(log: Logger, env: NodeJS.ProcessEnv = process.env): string[] {
  const dropped = ADMIN_SECRETS.filter((name) => env[name] !== undefined);
  for (const name of dropped) delete env[name];
  if (dropped.length > 0) {
    log.warn(
      `${dropped.join(" and ")} is set in this worker's environment: removed it, so OpenCode and its tools do not inherit it. ` +
        `The agent can still read the environment this process started with (/proc/${process.pid}/environ): ` +
        `start workers from a shell without ${dropped.join(" or ")} (keep it for admin and chat only; see the README).`,
    );
  }
  return dropped;
}
