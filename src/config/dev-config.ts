// Dev mode: one worker from `.env` in the current directory (real environment variables
// win), working in the current directory. Missing values are asked for on a terminal and
// saved; without a terminal the error says exactly what to set. Produces the same
// OrchestratorConfig as workers.json, so one manager runs both.
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { Prompter } from "../cli/ui/prompts.ts";
import { ConfigError, type ConfigIssue } from "../util/errors.ts";
import { writeSecureFile } from "../util/secure-file.ts";
import { ENV_NAMES, readConfigEnv } from "./env.ts";
import { isSandboxMode, SANDBOX_MODES, sandboxSettingsOf, type SandboxMode } from "../agent/sandbox/settings.ts";
import { parseEnvText, updateEnvText } from "./env-file.ts";
import { checkDirectory, privateFileWarning, shellQuote } from "./file-checks.ts";
import { resolvePath } from "./paths.ts";
import { checkConvexUrl, checkStatusAddress, checkToken } from "./rules.ts";
import type { WorkerToken } from "./token.ts";
import { DEFAULTS, type OrchestratorConfig } from "./types.ts";
import { NAME_PATTERN } from "./workers-schema.ts";

export type DevConfigOptions = {
  /** `--env-file` value (relative to cwd; `~` expanded). Default: `.env` in cwd. */
  envFile?: string;
  /** The worker's folder (the current directory). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdin and stderr are terminals: missing values may be asked for. */
  interactive: boolean;
  /** Prompt implementation (default: @clack/prompts on stdin/stderr). */
  prompter?: Prompter;
};

type Found = { value: string; from: "env" | "file" };

export async function loadDevConfig(opts: DevConfigOptions): Promise<OrchestratorConfig> {
  const env = readConfigEnv(opts.env);
  const cwd = resolve(opts.cwd);
  const envFile = resolvePath(opts.envFile ?? ".env", cwd, env.home);
  let fileText = readEnvFile(envFile);
  let fileValues = parseEnvText(fileText ?? "").values;

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

  const missing: string[] = [];
  if (!tokenFound) missing.push(ENV_NAMES.workerToken);
  if (!urlFound) missing.push(ENV_NAMES.convexUrl);
  if (missing.length > 0 && (!opts.interactive || errors.length > 0)) {
    for (const key of missing) errors.push(missingIssue(key, envFile, opts.interactive));
  }
  if (errors.length > 0) {
    const what = errors.every((e) => e.message === "is not set") ? "is missing settings" : "cannot use its settings";
    throw new ConfigError(`dev mode ${what}`, {
      issues: errors,
      hint: missing.length > 0 && !opts.interactive ? "Nothing was written. Run it in a terminal to be asked for the missing values." : undefined,
    });
  }

  if (missing.length > 0) {
    const prompter = opts.prompter ?? (await import("../cli/ui/prompts.ts")).createPrompter();
    const asked = await askMissing(prompter, missing, envFile);
    // Written only after every answer is in: a cancel part-way leaves the file untouched.
    fileText = updateEnvText(fileText ?? "", asked.lines);
    writeSecureFile(envFile, fileText);
    fileValues = parseEnvText(fileText).values;
    if (asked.token) {
      token = asked.token;
      tokenFound = { value: "", from: "file" };
    }
    if (asked.convexUrl) convexUrl = asked.convexUrl;
    prompter.outro(`Saved ${Object.keys(asked.lines).join(" and ")} to ${envFile} (mode 600). Keep this file out of version control.`);
  }

  const warnings: ConfigIssue[] = [];
  if (tokenFound?.from === "file") {
    const w = privateFileWarning(envFile, "the .env file");
    if (w) warnings.push({ ...w, path: ENV_NAMES.workerToken });
  }

  const nameFound = pick(env.workerName, ENV_NAMES.workerName);
  const name = nameFound?.value.trim() ?? token!.workerId;
  const statusFound = pick(env.statusAddress, ENV_NAMES.statusAddress);
  let statusAddress: string | null = null;
  const late: ConfigIssue[] = [];
  if (nameFound && !NAME_PATTERN.test(name)) {
    late.push({
      file: where(nameFound),
      path: ENV_NAMES.workerName,
      message: 'may only use letters, digits, ".", "_" and "-" (at most 64, not starting with "." or "-")',
      fix: "Use a short name such as api or web-app.",
    });
  }
  if (statusFound) {
    const r = checkStatusAddress(statusFound.value);
    if (r.ok) statusAddress = r.value;
    else late.push({ file: where(statusFound), path: ENV_NAMES.statusAddress, message: r.message, fix: r.fix });
  }
  // Like opencode_path in workers.json: a bare name is looked up on PATH, a path must exist.
  const opencodeFound = pick(env.opencodePath, ENV_NAMES.opencodePath);
  let opencodePath: string | null = null;
  if (opencodeFound) {
    const v = opencodeFound.value.trim();
    const pathLike = /[/\\]|^~/.test(v);
    opencodePath = pathLike ? resolvePath(v, cwd, env.home) : v;
    if (pathLike && !isFile(opencodePath)) {
      late.push({
        file: where(opencodeFound),
        path: ENV_NAMES.opencodePath,
        message: `"${opencodePath}" is not an existing file`,
        fix: "Point it at the opencode executable, or remove it to use opencode from PATH.",
      });
    }
  }
  const sandboxFound = pick(env.workerSandbox, ENV_NAMES.workerSandbox);
  const sandboxMode = sandboxFound?.value.trim().toLowerCase();
  if (sandboxFound && !isSandboxMode(sandboxMode!)) {
    late.push({ file: where(sandboxFound), path: ENV_NAMES.workerSandbox, message: `must be one of ${SANDBOX_MODES.join(", ")}`, fix: "Use auto (the default), on or off." });
  }
  if (late.length > 0) throw new ConfigError("dev mode cannot use its settings", { issues: late });

  return {
    source: { kind: "env", envFile },
    workers: [
      {
        name,
        token: token!,
        workingDirectory: cwd,
        convexUrl: convexUrl!,
        maxConcurrentSessions: DEFAULTS.maxConcurrentSessions,
        opencodePath,
        agentIdleTimeoutMs: DEFAULTS.agentIdleTimeoutMs,
        turnInactivityTimeoutMs: DEFAULTS.turnInactivityTimeoutMs,
        heartbeatIntervalMs: DEFAULTS.heartbeatIntervalMs,
        origin: ".env",
        sandbox: sandboxSettingsOf({ sandbox: sandboxMode as SandboxMode | undefined }, (p) => resolvePath(p, cwd, env.home)),
      },
    ],
    shutdownTimeoutMs: DEFAULTS.devShutdownTimeoutMs,
    statusAddress,
    warnings,
    rejected: [],
  };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function readEnvFile(file: string): string | undefined {
  try {
    if (statSync(file).isDirectory()) throw new ConfigError(`${file} is a folder, not a .env file`, { file, hint: "Pass the file itself with --env-file PATH." });
    return readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new ConfigError(`cannot read ${file} (${code ?? (e as Error).message})`, { file, hint: "Check the file's permissions." });
  }
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
