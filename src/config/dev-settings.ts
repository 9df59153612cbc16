// Where each of dev mode's settings comes from (a real environment variable wins over the
// .env file) and the checks of the optional ones.
import { statSync } from "node:fs";
import { ConfigError, type ConfigIssue } from "../util/errors.ts";
import { DEV_NUMBER_ENV, ENV_NAMES, type ConfigEnv, type DevNumberKey } from "./env.ts";
import { parseEnvText } from "./env-file.ts";
import { resolvePath } from "./paths.ts";
import { readConfigFile } from "./read-file.ts";
import { checkStatusAddress } from "./rules.ts";
import { isSandboxMode, SANDBOX_MODES, type SandboxMode } from "./sandbox-settings.ts";
import { parseTagsText } from "./tags.ts";
import { checkNumberText, NAME_PATTERN } from "./workers-schema.ts";

export type Found = { value: string; from: "env" | "file" };

/** The .env file as read, and how a setting is found in the environment or in it. */
export type DevSources = {
  envFile: string;
  fileText: string | undefined;
  pick: Pick;
  /** Where a found value came from, as issues name it. */
  where: (f: Found) => string;
};

export async function readDevSources(envFileOpt: string | undefined, cwd: string, env: ConfigEnv): Promise<DevSources> {
  const envFile = resolvePath(envFileOpt ?? ".env", cwd, env.home);
  const fileText = await readEnvFile(envFile);
  const fileValues = parseEnvText(fileText ?? "").values;
  const pick = (fromEnv: string | undefined, key: string): Found | undefined => {
    if (fromEnv !== undefined) return { value: fromEnv, from: "env" };
    const v = fileValues.get(key);
    return v !== undefined && v.trim() !== "" ? { value: v, from: "file" } : undefined;
  };
  return { envFile, fileText, pick, where: (f) => (f.from === "env" ? "environment" : envFile) };
}

export type Pick = (fromEnv: string | undefined, key: string) => Found | undefined;

export type OptionalSettings = {
  name?: string;
  tags?: string[];
  statusAddress: string | null;
  opencodePath: string | null;
  numbers: Partial<Record<DevNumberKey, number>>;
  sandbox?: SandboxMode;
  issues: ConfigIssue[];
};

/** WORKER_NAME, WORKER_TAGS, the status address, OPENCODE_PATH, the numbers and WORKER_SANDBOX: none is required. */
export function readOptionalSettings(pick: Pick, where: (f: Found) => string, cwd: string, env: ConfigEnv): OptionalSettings {
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
