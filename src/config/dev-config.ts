// Dev mode: one worker from `.env` in the current directory (real environment variables
// win), working in the current directory. Missing values are asked for on a terminal and
// saved; without a terminal the error says exactly what to set. Produces the same
// OrchestratorConfig as workers.json, so one manager runs both.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, type ConfigIssue } from "../util/errors.ts";
import { writeSecureFile } from "../util/secure-file.ts";
import { DEV_NUMBER_ENV, ENV_NAMES, readConfigEnv, type ConfigEnv, type DevNumberKey } from "./env.ts";
import { isSandboxMode, SANDBOX_MODES, sandboxSettingsOf, type SandboxMode } from "./sandbox-settings.ts";
import { parseEnvText, updateEnvText } from "./env-file.ts";
import { checkDirectory, privateFileWarning, shellQuote } from "./file-checks.ts";
import { resolvePath } from "./paths.ts";
import type { Prompter } from "./prompter.ts";
import { readConfigFile } from "./read-file.ts";
import { checkConvexUrl, checkStatusAddress, checkToken } from "./rules.ts";
import type { WorkerToken } from "./token.ts";
import { DEFAULTS, type OrchestratorConfig } from "./types.ts";
import { checkNumberText, NAME_PATTERN } from "./workers-schema.ts";
import { parseTagsText } from "./tags.ts";

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

type Found = { value: string; from: "env" | "file" };

export async function loadDevConfig(opts: DevConfigOptions): Promise<OrchestratorConfig> {
  const env = readConfigEnv(opts.env);
  const cwd = resolve(opts.cwd);
  const envFile = resolvePath(opts.envFile ?? ".env", cwd, env.home);
  let fileText = await readEnvFile(envFile);
  const fileValues = parseEnvText(fileText ?? "").values;

  const pick = (fromEnv: string | undefined, key: string): Found | undefined => {
    if (fromEnv !== undefined) return { value: fromEnv, from: "env" };
    const v = fileValues.get(key);
    return v !== undefined && v.trim() !== "" ? { value: v, from: "file" } : undefined;
  };
  const where = (f: Found) => (f.from === "env" ? "environment" : envFile);

  let tokenFound = pick(env.workerToken, ENV_NAMES.workerToken);
  let urlFound = pick(env.convexUrl, ENV_NAMES.convexUrl);
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
  const interactive = opts.interactive && opts.prompter !== undefined;
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

  if (missing.length > 0) {
    const prompter = await opts.prompter!();
    const asked = await askMissing(prompter, missing, envFile);
    // What came from the environment is saved with the answers, so the next shell (without
    // the export) does not ask again; never the token, which stays only where the user put it.
    const used: Record<string, string> = {};
    if (urlFound?.from === "env" && convexUrl) used[ENV_NAMES.convexUrl] = convexUrl;
    const lines = { ...asked.lines, ...used };
    // Written only after every answer is in: a cancel part-way leaves the file untouched.
    fileText = updateEnvText(fileText ?? "", lines);
    writeSecureFile(envFile, fileText);
    if (asked.token) {
      token = asked.token;
      tokenFound = { value: "", from: "file" };
    }
    if (asked.convexUrl) convexUrl = asked.convexUrl;
    const notSaved = tokenFound?.from === "env" ? ` ${ENV_NAMES.workerToken} came from the environment and was not copied into the file.` : "";
    prompter.outro(`Saved ${Object.keys(lines).join(" and ")} to ${envFile} (mode 600). Keep this file out of version control.${notSaved}`);
  }

  const warnings: ConfigIssue[] = [];
  if (tokenFound?.from === "file") {
    const w = privateFileWarning(envFile, "the .env file");
    if (w) warnings.push({ ...w, path: ENV_NAMES.workerToken });
  }

  const name = optional.name ?? token!.workerId;
  const ms = (key: DevNumberKey, fallbackMs: number) => (optional.numbers[key] === undefined ? fallbackMs : Math.round(optional.numbers[key] * 1000));

  return {
    source: { kind: "env", envFile },
    workers: [
      {
        name,
        token: token!,
        workingDirectory: cwd,
        convexUrl: convexUrl!,
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

type Pick = (fromEnv: string | undefined, key: string) => Found | undefined;

type OptionalSettings = {
  name?: string;
  tags?: string[];
  statusAddress: string | null;
  opencodePath: string | null;
  numbers: Partial<Record<DevNumberKey, number>>;
  sandbox?: SandboxMode;
  issues: ConfigIssue[];
};

/** WORKER_NAME, WORKER_TAGS, the status address, OPENCODE_PATH, the numbers and WORKER_SANDBOX: none is required. */
function readOptionalSettings(pick: Pick, where: (f: Found) => string, cwd: string, env: ConfigEnv): OptionalSettings {
  const out: OptionalSettings = { statusAddress: null, opencodePath: null, numbers: {}, issues: [] };
  const nameFound = pick(env.workerName, ENV_NAMES.workerName);
  if (nameFound) {
    out.name = nameFound.value.trim();
    if (!NAME_PATTERN.test(out.name)) {
      out.issues.push({
        file: where(nameFound),
        path: ENV_NAMES.workerName,
        message: 'may only use letters, digits, ".", "_" and "-" (at most 64, not starting with "." or "-")',
        fix: "Use a short name such as api or web-app.",
      });
    }
  }
  const tagsFound = pick(env.workerTags, ENV_NAMES.workerTags);
  if (tagsFound) {
    const r = parseTagsText(tagsFound.value);
    if (r.ok) out.tags = r.value;
    else out.issues.push({ file: where(tagsFound), path: ENV_NAMES.workerTags, message: r.message, fix: r.fix });
  }
  const statusFound = pick(env.statusAddress, ENV_NAMES.statusAddress);
  if (statusFound) {
    const r = checkStatusAddress(statusFound.value);
    if (r.ok) out.statusAddress = r.value;
    else out.issues.push({ file: where(statusFound), path: ENV_NAMES.statusAddress, message: r.message, fix: r.fix });
  }
  // Like opencode_path in workers.json: a bare name is looked up on PATH, a path must exist.
  const opencodeFound = pick(env.opencodePath, ENV_NAMES.opencodePath);
  if (opencodeFound) {
    const v = opencodeFound.value.trim();
    const pathLike = /[/\\]|^~/.test(v);
    out.opencodePath = pathLike ? resolvePath(v, cwd, env.home) : v;
    if (pathLike && !isFile(out.opencodePath)) {
      out.issues.push({
        file: where(opencodeFound),
        path: ENV_NAMES.opencodePath,
        message: `"${out.opencodePath}" is not an existing file`,
        fix: "Point it at the opencode executable, or remove it to use opencode from PATH.",
      });
    }
  }
  for (const key of Object.keys(DEV_NUMBER_ENV) as DevNumberKey[]) {
    const found = pick(env.devNumbers[key], DEV_NUMBER_ENV[key]);
    if (!found) continue;
    const r = checkNumberText(key, found.value);
    if (r.ok) out.numbers[key] = r.value;
    else out.issues.push({ file: where(found), path: DEV_NUMBER_ENV[key], message: r.message, fix: r.fix });
  }
  const sandboxFound = pick(env.workerSandbox, ENV_NAMES.workerSandbox);
  if (sandboxFound) {
    const mode = sandboxFound.value.trim().toLowerCase();
    if (isSandboxMode(mode)) out.sandbox = mode;
    else out.issues.push({ file: where(sandboxFound), path: ENV_NAMES.workerSandbox, message: `must be one of ${SANDBOX_MODES.join(", ")}`, fix: "Use auto (the default), on or off." });
  }
  return out;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

async function readEnvFile(file: string): Promise<string | undefined> {
  const r = await readConfigFile(file, "envFile");
  if (r.ok) return r.text;
  if (r.missing) return undefined;
  throw new ConfigError(r.message, { file, hint: r.fix });
}

function missingIssue(key: string, envFile: string, interactive: boolean): ConfigIssue {
  const example = key === ENV_NAMES.workerToken ? "machine_<machineId>:worker_<workerId>:secret_<secret>" : "https://<deployment>.convex.cloud";
  return {
    file: envFile,
    path: key,
    message: "is not set",
    fix:
      `Set the environment variable ${key}, or add the line ${key}=${example} to ${shellQuote(envFile)} (chmod 600)` +
      (interactive ? "." : ", or run on a terminal to be asked."),
  };
}

type Asked = { lines: Record<string, string>; token?: WorkerToken; convexUrl?: string };

async function askMissing(p: Prompter, missing: string[], envFile: string): Promise<Asked> {
  p.intro("opencode-orchestrator dev: first-run setup");
  p.note(`${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} not set.\nThe answers will be saved to ${envFile} (mode 600).\nPress Ctrl+C to cancel: nothing is written.`, "Setup");
  const asked: Asked = { lines: {} };
  for (const key of missing) {
    if (key === ENV_NAMES.workerToken) {
      const text = await p.secret({
        message: "Worker token (machine_…:worker_…:secret_…)",
        check: (v) => {
          const r = checkToken(v);
          return r.ok ? undefined : `The token ${r.message}. ${r.fix}`;
        },
      });
      const r = checkToken(text);
      if (r.ok) asked.token = r.value;
      asked.lines[key] = text;
    } else {
      const text = await p.text({
        message: "Convex deployment URL",
        placeholder: "https://happy-animal-123.convex.cloud",
        check: (v) => {
          const r = checkConvexUrl(v);
          return r.ok ? undefined : `The URL ${r.message}.`;
        },
      });
      const r = checkConvexUrl(text);
      if (r.ok) asked.convexUrl = r.value;
      asked.lines[key] = r.ok ? r.value : text;
    }
  }
  return asked;
}
