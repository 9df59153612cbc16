// Loads workers.json (orchestrate mode) into the one validated OrchestratorConfig, reporting
// every problem in one ConfigError. `validate` and `orchestrate` both call this.
import { ConfigError, type ConfigIssue } from "../util/errors.ts";
import { writeSecureFile } from "../util/secure-file.ts";
import { readConfigEnv, type ConfigEnv } from "./env.ts";
import { privateFileWarning } from "./file-checks.ts";
import { formatPath, fromZodIssue } from "./issues.ts";
import { parseJsoncDocument, type DuplicateKey } from "./jsonc.ts";
import { readConfigFile } from "./read-file.ts";
import { resolveFromConfigFile } from "./paths.ts";
import { chooseStatusAddress, statusAddressSource } from "./status-address.ts";
import { checkConvexUrl, checkStatusAddress } from "./rules.ts";
import { DEFAULTS, type OrchestratorConfig, type RejectedWorker, type WorkerConfig } from "./types.ts";
import { workerEntrySchema, workersFileSchema, type WorkerEntry } from "./workers-schema.ts";
import { checkDuplicates, checkEntry, isObject, type EntryResult } from "./workers-entries.ts";
import { workersTemplate } from "./workers-template.ts";
import { sandboxSettingsOf } from "./sandbox-settings.ts";

export type LoadWorkersOptions = {
  /** Write a commented template when the file is missing (orchestrate: true; validate: false). */
  createTemplate: boolean;
  /** Environment snapshot (default: the process's). */
  env?: ConfigEnv;
  /**
   * Leave out workers with problems of their own instead of failing the whole file
   * (orchestrate's start: one bad entry must not stop the others). File-level problems
   * still fail, and so does a file where no worker is valid.
   */
  isolateWorkers?: boolean;
  /** `orchestrate --status-address`, already checked: wins over the environment and the file. */
  statusAddressFlag?: string;
};

/**
 * Reads, parses and validates workers.json at an absolute `path`.
 * Throws ConfigError (exit 78) listing every problem; returns warnings in `config.warnings`.
 */
export async function loadWorkersConfig(path: string, opts: LoadWorkersOptions): Promise<OrchestratorConfig> {
  const env = opts.env ?? readConfigEnv();
  const text = await readConfigText(path, opts.createTemplate);
  const { value: raw, duplicates } = parseJsoncDocument(text, path);
  return validateWorkersFile(raw, path, env, { isolateWorkers: opts.isolateWorkers ?? false, statusAddressFlag: opts.statusAddressFlag, duplicates });
}

/** Writes the commented template (folder 0700, file 0600). Never replaces an existing file. */
export function writeWorkersTemplate(path: string): void {
  writeSecureFile(path, workersTemplate(), { exclusive: true });
}

async function readConfigText(path: string, createTemplate: boolean): Promise<string> {
  const r = await readConfigFile(path, "workersFile");
  if (r.ok) return r.text;
  if (r.missing) return missingFile(path, createTemplate);
  throw new ConfigError(r.message, { file: path, hint: r.fix });
}

function missingFile(path: string, createTemplate: boolean): never {
  if (!createTemplate) {
    throw new ConfigError(`no workers.json at ${path}`, {
      file: path,
      hint:
        "Run `opencode-orchestrator orchestrate` once to write a commented template there, then edit it. " +
        "Or point to another file with --config PATH or OPENCODE_ORCHESTRATOR_CONFIG.",
    });
  }
  try {
    writeWorkersTemplate(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      // Someone created it between our stat and our write: load theirs next time, never clobber it.
      throw new ConfigError(`${path} appeared while the template was being written`, { file: path, hint: "Run the command again." });
    }
    throw new ConfigError(`no workers.json at ${path}, and a template could not be written there (${code ?? (e as Error).message})`, {
      file: path,
      hint: "Create the folder yourself or pass --config PATH.",
    });
  }
  throw new ConfigError(`no workers.json was found, so a template was written to ${path}`, {
    file: path,
    hint:
      `Next: open ${path}, paste each worker's token, set its working_directory and convex_url, ` +
      "then run `opencode-orchestrator validate` and start again.",
  });
}


type ValidateOptions = {
  isolateWorkers?: boolean;
  /** A validated command-line status address, which wins over the environment and the file. */
  statusAddressFlag?: string;
  /** Keys written twice in the file (from the parse), reported as warnings. */
  duplicates?: DuplicateKey[];
};

/** Validates an already-parsed value as workers.json located at `path`. */
export async function validateWorkersFile(raw: unknown, path: string, env: ConfigEnv, opts: ValidateOptions = {}): Promise<OrchestratorConfig> {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const fileWarning = privateFileWarning(path, "the config file");
  if (fileWarning) warnings.push(fileWarning);

  const parsed = workersFileSchema.safeParse(raw);
  const flagged = new Set<string>();
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      flagged.add(formatPath(issue.path));
      errors.push(...fromZodIssue(issue, path, raw));
    }
  }

  // File-system and cross-field checks run on the raw entries too, so one run reports
  // every problem even when the schema already failed somewhere else.
  const rawWorkers = isObject(raw) && Array.isArray(raw.workers) ? raw.workers : [];
  const partials: EntryResult[] = [];
  for (const [index, entry] of rawWorkers.entries()) {
    if (isObject(entry)) partials.push(await checkEntry(entry, index, path, env, flagged, errors, warnings));
  }
  checkDuplicates(partials, errors, warnings);

  const statusAddress = resolveStatusAddress(raw, path, env, opts.statusAddressFlag, errors, warnings);
  for (const d of opts.duplicates ?? []) warnings.push(duplicateKeyWarning(d, path));

  if (opts.isolateWorkers && errors.length > 0) {
    const isolated = isolateBadWorkers(raw, rawWorkers, partials, errors, path, env);
    if (isolated) {
      return {
        source: { kind: "file", path },
        workers: isolated.workers,
        shutdownTimeoutMs: isolated.shutdownTimeoutMs,
        statusAddress,
        warnings,
        rejected: isolated.rejected,
      };
    }
  }

  if (errors.length > 0 || !parsed.success) {
    sortIssues(errors);
    const n = errors.length;
    throw new ConfigError(`${path} has ${n} problem${n === 1 ? "" : "s"}`, { file: path, issues: errors });
  }

  const data = parsed.data;
  const workers: WorkerConfig[] = data.workers.map((w, i) => buildWorker(w, partials.find((p) => p.index === i)!, path, env));
  return {
    source: { kind: "file", path },
    workers,
    shutdownTimeoutMs: Math.round((data.shutdown_timeout ?? DEFAULTS.shutdownTimeoutMs / 1000) * 1000),
    statusAddress,
    warnings,
    rejected: [],
  };
}

/** The status address by the one precedence (status-address.ts); a bad file value is the schema's error. */
function resolveStatusAddress(raw: unknown, path: string, env: ConfigEnv, flag: string | undefined, errors: ConfigIssue[], warnings: ConfigIssue[]): string | null {
  const inFile = isObject(raw) && typeof raw.status_address === "string" && checkStatusAddress(raw.status_address).ok ? raw.status_address : undefined;
  const choice = chooseStatusAddress({ flag, env: env.statusAddress, file: inFile });
  const source = statusAddressSource(choice.origin, path);
  const r = checkStatusAddress(choice.text);
  if (!r.ok) {
    errors.push({ ...source, message: r.message, fix: r.fix });
    return DEFAULTS.statusAddress;
  }
  if (r.value !== null && r.loopback === false) {
    warnings.push({
      ...source,
      message: `the status endpoint on ${r.value} is reachable from other machines`,
      fix: 'Use a loopback address such as "127.0.0.1:7420" unless other machines must read it.',
    });
  }
  return r.value;
}

function duplicateKeyWarning(d: DuplicateKey, path: string): ConfigIssue {
  return {
    file: path,
    path: formatPath(d.path),
    message: `"${d.key}" is written twice in one object (line ${d.firstLine}:${d.firstColumn} and line ${d.line}:${d.column}); only the last one counts`,
    fix: `Remove one of the two "${d.key}" keys.`,
  };
}

const WORKER_PATH = /^workers\[(\d+)\]/;

/**
 * When every problem belongs to a single worker entry, keeps the clean entries and reports
 * the others; returns null when a problem is file-wide or no entry is left.
 */
function isolateBadWorkers(
  raw: unknown,
  rawWorkers: unknown[],
  partials: EntryResult[],
  errors: ConfigIssue[],
  path: string,
  env: ConfigEnv,
): { workers: WorkerConfig[]; rejected: RejectedWorker[]; shutdownTimeoutMs: number } | null {
  const byIndex = new Map<number, ConfigIssue[]>();
  for (const e of errors) {
    const m = WORKER_PATH.exec(e.path);
    if (!m) return null;
    const i = Number(m[1]);
    byIndex.set(i, [...(byIndex.get(i) ?? []), e]);
  }
  // The rest of the file (top-level keys) must be valid on its own.
  const rest = isObject(raw) ? Object.fromEntries(Object.entries(raw).filter(([k]) => k !== "workers")) : raw;
  const topLevel = workersFileSchema.omit({ workers: true }).safeParse(rest);
  if (!topLevel.success) return null;
  const workers: WorkerConfig[] = [];
  const rejected: RejectedWorker[] = [];
  rawWorkers.forEach((entry, index) => {
    const partial = partials.find((p) => p.index === index);
    const issues = byIndex.get(index);
    const parsedEntry = workerEntrySchema.safeParse(entry);
    if (!issues && partial && parsedEntry.success) workers.push(buildWorker(parsedEntry.data, partial, path, env));
    else rejected.push({ name: partial?.name ?? `workers[${index}]`, origin: `workers[${index}]`, issues: issues ?? [] });
  });
  const shutdownTimeoutMs = Math.round((topLevel.data.shutdown_timeout ?? DEFAULTS.shutdownTimeoutMs / 1000) * 1000);
  return workers.length > 0 ? { workers, rejected, shutdownTimeoutMs } : null;
}

function buildWorker(w: WorkerEntry, p: EntryResult, path: string, env: ConfigEnv): WorkerConfig {
  const opencode = w.opencode_path;
  return {
    name: p.name!,
    token: p.token!,
    workingDirectory: p.dir!,
    convexUrl: normalizedUrl(w.convex_url),
    maxConcurrentSessions: w.max_concurrent_sessions ?? DEFAULTS.maxConcurrentSessions,
    ...(w.tags ? { tags: [...new Set(w.tags.map((t) => t.trim()))] } : {}),
    opencodePath: opencode === undefined ? null : /[/\\]|^~/.test(opencode) ? resolveFromConfigFile(opencode, path, env.home) : opencode,
    agentIdleTimeoutMs: ms(w.agent_idle_timeout, DEFAULTS.agentIdleTimeoutMs),
    turnInactivityTimeoutMs: ms(w.turn_inactivity_timeout, DEFAULTS.turnInactivityTimeoutMs),
    heartbeatIntervalMs: ms(w.heartbeat_interval, DEFAULTS.heartbeatIntervalMs),
    maxTurnCostUsd: w.max_turn_cost ?? null,
    maxDailyCostUsd: w.max_daily_cost ?? null,
    permissionTimeoutMs: ms(w.permission_timeout, DEFAULTS.permissionTimeoutMs),
    ...(w.permission ? { permission: w.permission } : {}),
    origin: `workers[${p.index}]`,
    sandbox: sandboxSettingsOf(w, (q) => resolveFromConfigFile(q, path, env.home)),
    tokenFile: w.token_file === undefined ? null : resolveFromConfigFile(w.token_file, path, env.home),
  };
}

const ms = (seconds: number | undefined, fallback: number) => (seconds === undefined ? fallback : Math.round(seconds * 1000));

function normalizedUrl(url: string): string {
  const r = checkConvexUrl(url);
  if (!r.ok) throw new Error("unreachable: convex_url passed the schema");
  return r.value;
}

/** Top-level problems first, then worker by worker, in file order within an entry. */
function sortIssues(issues: ConfigIssue[]): void {
  const rank = (i: ConfigIssue) => {
    const m = /^workers\[(\d+)\]/.exec(i.path);
    return m ? Number(m[1]) : -1;
  };
  issues.sort((a, b) => rank(a) - rank(b));
}
