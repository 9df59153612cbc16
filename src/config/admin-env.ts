// Where person-side commands (`admin`, `chat`) find the backend: flags win over the
// environment. A Convex deploy key works as an admin key, as with `npx convex run`.
import { ConfigError, type ConfigIssue } from "../util/errors.ts";
import { registerSecret } from "../util/redact.ts";
import { readConfigEnv, type ConfigEnv } from "./env.ts";
import { checkConvexUrl } from "./rules.ts";

export type AdminTarget = { url: string; adminKey: string };

export function resolveAdminTarget(
  flags: { url?: string; adminKey?: string },
  env: ConfigEnv = readConfigEnv(),
): AdminTarget {
  const nonEmpty = (v: string | undefined) => (v && v.trim() !== "" ? v.trim() : undefined);
  const url = nonEmpty(flags.url) ?? env.convexUrl;
  const adminKey = nonEmpty(flags.adminKey) ?? env.adminKey ?? env.deployKey;
  const issues: ConfigIssue[] = [];
  if (!url) {
    issues.push({ file: "command line", path: "--url", message: "no backend URL", fix: "pass --url URL or set CONVEX_URL (the `backend` command prints it)" });
  }
  if (!adminKey) {
    issues.push({
      file: "command line",
      path: "--admin-key",
      message: "no admin key",
      fix: "pass --admin-key KEY or set CONVEX_ADMIN_KEY (or CONVEX_DEPLOY_KEY for a Convex deployment)",
    });
  }
  const checked = url ? checkConvexUrl(url) : undefined;
  if (checked && !checked.ok) issues.push({ file: "command line", path: "--url", message: `${url} ${checked.message}`, fix: checked.fix });
  if (issues.length > 0 || !checked?.ok || !adminKey) throw new ConfigError("cannot reach the backend as an administrator", { issues });
  registerSecret(adminKey);
  return { url: checked.value, adminKey };
}
