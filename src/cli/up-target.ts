// Where `admin` and `chat` go when neither a flag nor the environment names a backend: the
// local one `up` runs, found through its data folder (runtime file + admin key file). The key is
// read from its 0600 file at the moment of use and never put into an environment.
import { resolveAdminTarget, type AdminTarget } from "../config/admin-env.ts";
import { readConfigEnv, type ConfigEnv } from "../config/env.ts";
import { backendDataDir } from "../config/paths.ts";
import { recordedLocalBackend } from "../local-backend/discovery.ts";
import { ConfigError } from "../util/errors.ts";
import { pidAlive } from "../util/process-group.ts";

export function resolvePersonTarget(
  flags: { url?: string; adminKey?: string },
  stderr: (line: string) => void,
  env: ConfigEnv = readConfigEnv(),
): AdminTarget {
  const given = [flags.url, flags.adminKey, env.convexUrl, env.adminKey, env.deployKey].some((v) => v !== undefined && v.trim() !== "");
  if (given) return resolveAdminTarget(flags, env);
  const dataDir = backendDataDir(env);
  const recorded = recordedLocalBackend(dataDir);
  // A record whose process is gone (the machine restarted, `up --stop-backend`) is no backend.
  const local = recorded && pidAlive(recorded.pid) ? recorded : undefined;
  if (!local) {
    // Nothing given and nothing local: the usual error, each flag and variable named, plus `up`.
    try {
      return resolveAdminTarget(flags, env);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      throw new ConfigError(e.message, {
        issues: e.issues,
        hint: `No local backend runs either (${recorded ? `the one recorded in ${dataDir} has stopped` : `nothing recorded in ${dataDir}`}): \`opencode-orchestrator up\` starts one.`,
      });
    }
  }
  stderr(`using the local backend at ${local.url} (from ${dataDir})`);
  return resolveAdminTarget({ url: local.url, adminKey: local.adminKey }, env);
}
