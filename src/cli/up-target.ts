// Where `admin` and `chat` go when neither a flag nor the environment names a backend: the
// local one `up` runs, found through its data folder (runtime file + admin key file). The key is
// read from its 0600 file at the moment of use and never put into an environment.
import { resolveAdminTarget, type AdminTarget } from "../config/admin-env.ts";
import { readConfigEnv, type ConfigEnv } from "../config/env.ts";
import { backendDataDir } from "../config/paths.ts";
import { recordedLocalBackend } from "../local-backend/discovery.ts";
import { ConfigError } from "../util/errors.ts";

export function resolvePersonTarget(
  flags: { url?: string; adminKey?: string },
  stderr: (line: string) => void,
  env: ConfigEnv = readConfigEnv(),
): AdminTarget {
  const given = [flags.url, flags.adminKey, env.convexUrl, env.adminKey, env.deployKey].some((v) => v !== undefined && v.trim() !== "");
  if (given) return resolveAdminTarget(flags, env);
  const dataDir = backendDataDir(env);
  const local = recordedLocalBackend(dataDir);
  if (!local) {
    throw new ConfigError("no backend given, and no local backend is running", {
      issues: [
        {
          file: "command line",
          path: "--url",
          message: `nothing in ${dataDir} says a local backend runs there`,
          fix: "start one with `opencode-orchestrator up` (in your project folder), or pass --url URL and --admin-key KEY (or set CONVEX_URL and CONVEX_ADMIN_KEY)",
        },
      ],
    });
  }
  stderr(`using the local backend at ${local.url} (from ${dataDir})`);
  return resolveAdminTarget({ url: local.url, adminKey: local.adminKey }, env);
}
