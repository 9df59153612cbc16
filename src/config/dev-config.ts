// Dev mode: one worker from `.env` in the current directory (real environment variables
// win), working in the current directory. Missing values are asked for on a terminal and
// saved; without a terminal the error says exactly what to set. Produces the same
// OrchestratorConfig as workers.json, so one manager runs both.
import { resolve } from "node:path";
import { ConfigError, type ConfigIssue } from "../util/errors.ts";
import { readDevSources, readOptionalSettings, type DevSources, type Found, type OptionalSettings } from "./dev-settings.ts";
import { missingIssue, runFirstSetup } from "./dev-setup.ts";
import { ENV_NAMES, readConfigEnv, type ConfigEnv, type DevNumberKey } from "./env.ts";
import { sandboxSettingsOf } from "./sandbox-settings.ts";
import { checkDirectory, privateFileWarning } from "./file-checks.ts";
import { resolvePath } from "./paths.ts";
import type { Prompter } from "./prompter.ts";
import { checkConvexUrl, checkToken } from "./rules.ts";
import type { WorkerToken } from "./token.ts";
import { DEFAULTS, type OrchestratorConfig } from "./types.ts";

export type DevConfigOptions = {
  /** `--env-file` value (relative to cwd; `~` expanded). Default: `.env` in cwd. */
  envFile?: string;
  /** The worker's folder (the current directory). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdin and stderr are terminals: missing values may be asked for. */
  interactive: boolean;
  /**
   * Opens the prompts (cli/dev.ts passes @clack/prompts on stdin/stderr). Called only when
   * something must be asked, so the prompt library loads only then. Without it nothing is asked.
   */
  prompter?: () => Prompter | Promise<Prompter>;
};

/** Dev mode's settings as found and checked; the first-run setup fills in what was missing. */
export type DevSettings = {
  tokenFound?: Found;
  urlFound?: Found;
  token?: WorkerToken;
  convexUrl?: string;
  optional: OptionalSettings;
  errors: ConfigIssue[];
  /** Required settings found nowhere. */
  missing: string[];
};

export async function loadDevConfig(opts: DevConfigOptions): Promise<OrchestratorConfig> {
  const env = readConfigEnv(opts.env);
  const cwd = resolve(opts.cwd);
  const src = await readDevSources(opts.envFile, cwd, env);
  const s = checkSettings(src, cwd, env);
  const interactive = opts.interactive && opts.prompter !== undefined;
  rejectUnusable(s, src.envFile, interactive);
  if (s.missing.length > 0) await runFirstSetup(s, src, await opts.prompter!());
  return devConfig(s, src.envFile, cwd, env);
}

function checkSettings(src: DevSources, cwd: string, env: ConfigEnv): DevSettings {
  const { pick, where } = src;
  const tokenFound = pick(env.workerToken, ENV_NAMES.workerToken);
  const urlFound = pick(env.convexUrl, ENV_NAMES.convexUrl);
  const errors: ConfigIssue[] = [];
  const dir = checkDirectory(cwd, cwd);
  if (!dir.ok) errors.push({ file: "current directory", path: "", message: dir.message, fix: dir.fix });

  let token: WorkerToken | undefined;
  let convexUrl: string | undefined;
  if (tokenFound) {
    const r = checkToken(tokenFound.value);
    if (r.ok) token = r.value;
    else errors.push({ file: where(tokenFound), path: ENV_NAMES.workerToken, message: r.message, fix: r.fix });
  }
  if (urlFound) {
    const r = checkConvexUrl(urlFound.value);
    if (r.ok) convexUrl = r.value;
    else errors.push({ file: where(urlFound), path: ENV_NAMES.convexUrl, message: r.message, fix: r.fix });
  }

  // Checked before anything is asked, so a bad setting never follows a saved answer.
  const optional = readOptionalSettings(pick, where, cwd, env);
  errors.push(...optional.issues);

  const missing: string[] = [];
  if (!tokenFound) missing.push(ENV_NAMES.workerToken);
  if (!urlFound) missing.push(ENV_NAMES.convexUrl);
  return { tokenFound, urlFound, token, convexUrl, optional, errors, missing };
}

/** Every problem at once, before anything is asked or written. */
function rejectUnusable(s: DevSettings, envFile: string, interactive: boolean): void {
  const { errors, missing } = s;
  if (missing.length > 0 && (!interactive || errors.length > 0)) {
    for (const key of missing) errors.push(missingIssue(key, envFile, interactive));
  }
  if (errors.length > 0) {
    const what = errors.every((e) => e.message === "is not set") ? "is missing settings" : "cannot use its settings";
    throw new ConfigError(`dev mode ${what}`, {
      issues: errors,
      hint: missing.length > 0 && !interactive ? "Nothing was written. Run it in a terminal to be asked for the missing values." : undefined,
    });
  }
}

/** The same OrchestratorConfig workers.json gives, with one worker. */
function devConfig(s: DevSettings, envFile: string, cwd: string, env: ConfigEnv): OrchestratorConfig {
  const { optional } = s;
  const warnings: ConfigIssue[] = [];
  if (s.tokenFound?.from === "file") {
    const w = privateFileWarning(envFile, "the .env file");
    if (w) warnings.push({ ...w, path: ENV_NAMES.workerToken });
  }

  const name = optional.name ?? s.token!.workerId;
  const ms = (key: DevNumberKey, fallbackMs: number) => (optional.numbers[key] === undefined ? fallbackMs : Math.round(optional.numbers[key] * 1000));

  return {
    source: { kind: "env", envFile },
    workers: [
      {
        name,
        token: s.token!,
        workingDirectory: cwd,
        convexUrl: s.convexUrl!,
        maxConcurrentSessions: optional.numbers.max_concurrent_sessions ?? DEFAULTS.maxConcurrentSessions,
        ...(optional.tags ? { tags: optional.tags } : {}),
        opencodePath: optional.opencodePath,
        agentIdleTimeoutMs: ms("agent_idle_timeout", DEFAULTS.agentIdleTimeoutMs),
        turnInactivityTimeoutMs: ms("turn_inactivity_timeout", DEFAULTS.turnInactivityTimeoutMs),
        heartbeatIntervalMs: ms("heartbeat_interval", DEFAULTS.heartbeatIntervalMs),
        maxTurnCostUsd: optional.numbers.max_turn_cost ?? null,
        maxDailyCostUsd: optional.numbers.max_daily_cost ?? null,
        permissionTimeoutMs: ms("permission_timeout", DEFAULTS.permissionTimeoutMs),
        origin: ".env",
        sandbox: sandboxSettingsOf({ sandbox: optional.sandbox }, (p) => resolvePath(p, cwd, env.home)),
      },
    ],
    shutdownTimeoutMs: ms("shutdown_timeout", DEFAULTS.devShutdownTimeoutMs),
    statusAddress: optional.statusAddress,
    warnings,
    rejected: [],
  };
}
