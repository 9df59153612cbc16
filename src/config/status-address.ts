// Where the status endpoint listens, in the one precedence every command follows:
// command-line flag > OPENCODE_ORCHESTRATOR_STATUS_ADDRESS > status_address in workers.json
// > the default. `orchestrate` binds it, `status` reads it, `validate` checks it.
import { ENV_NAMES, readConfigEnv, type ConfigEnv } from "./env.ts";
import { parseJsoncLenient } from "./jsonc.ts";
import { resolveConfigPath } from "./paths.ts";
import { readConfigFile } from "./read-file.ts";
import { checkStatusAddress } from "./rules.ts";
import { DEFAULTS } from "./types.ts";

export type StatusAddressOrigin = "flag" | "env" | "file" | "default";

export type StatusAddressChoice = { text: string; origin: StatusAddressOrigin };

export function chooseStatusAddress(sources: { flag?: string; env?: string; file?: string }): StatusAddressChoice {
  if (sources.flag !== undefined) return { text: sources.flag, origin: "flag" };
  if (sources.env !== undefined) return { text: sources.env, origin: "env" };
  if (sources.file !== undefined) return { text: sources.file, origin: "file" };
  return { text: DEFAULTS.statusAddress, origin: "default" };
}

/** Where a chosen address came from, as a ConfigIssue's file and path. */
export function statusAddressSource(origin: StatusAddressOrigin, configPath: string, flagName = "--status-address"): { file: string; path: string } {
  if (origin === "flag") return { file: "command line", path: flagName };
  if (origin === "env") return { file: "environment", path: ENV_NAMES.statusAddress };
  return { file: configPath, path: "status_address" };
}

/**
 * status_address of workers.json for a client such as `status`, when the file is there and the
 * field is valid. Read leniently: a file with a syntax error is what a running orchestrator
 * rejected on reload while it keeps listening where the last good file said, which is most
 * likely this same address. Bounded like every config read; only nesting too deep to parse
 * is an error (ConfigError, exit 78).
 */
async function statusAddressInFile(path: string): Promise<string | undefined> {
  const read = await readConfigFile(path, "workersFile");
  if (!read.ok) return undefined;
  const raw = parseJsoncLenient(read.text, path) as { status_address?: unknown } | undefined;
  if (typeof raw?.status_address !== "string") return undefined;
  return checkStatusAddress(raw.status_address).ok ? raw.status_address : undefined;
}

export type ClientStatusAddress = {
  /** host:port, or null when the endpoint is off. A flag's value is passed through unchecked. */
  value: string | null;
  origin: StatusAddressOrigin;
  /** For messages: "--address", the variable's name, "status_address in <file>" or "the default". */
  where: string;
};

/** The address a running orchestrate listens on, as far as this process can tell. */
export async function statusAddressForClient(opts: { flag?: string; env?: ConfigEnv } = {}): Promise<ClientStatusAddress> {
  const env = opts.env ?? readConfigEnv();
  const configPath = resolveConfigPath({ env }).path;
  const file = opts.flag === undefined && env.statusAddress === undefined ? await statusAddressInFile(configPath) : undefined;
  const choice = chooseStatusAddress({ flag: opts.flag, env: env.statusAddress, file });
  const where =
    choice.origin === "flag" ? "--address" : choice.origin === "env" ? ENV_NAMES.statusAddress : choice.origin === "file" ? `status_address in ${configPath}` : "the default";
  if (choice.origin === "flag") return { value: choice.text, origin: choice.origin, where };
  const r = checkStatusAddress(choice.text);
  // An invalid variable is passed on as written: the caller's message then names it.
  return { value: r.ok ? r.value : choice.text, origin: choice.origin, where };
}
