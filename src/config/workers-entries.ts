// Per-entry checks of workers.json that the schema cannot express: the token (inline or from
// a file), the folder on disk, the opencode path, and duplicates across entries.
import { realpathSync, statSync } from "node:fs";
import type { ConfigIssue } from "../util/errors.ts";
import type { ConfigEnv } from "./env.ts";
import { checkDirectory, privateFileWarning } from "./file-checks.ts";
import { resolveFromConfigFile } from "./paths.ts";
import { readConfigFile } from "./read-file.ts";
import { checkToken } from "./rules.ts";
import type { WorkerToken } from "./token.ts";

export type EntryResult = { index: number; entry: Record<string, unknown>; token?: WorkerToken; dir?: string; name?: string };

export async function checkEntry(
  entry: Record<string, unknown>,
  index: number,
  path: string,
  env: ConfigEnv,
  flagged: Set<string>,
  errors: ConfigIssue[],
  warnings: ConfigIssue[],
): Promise<EntryResult> {
  const at = (key: string) => `workers[${index}].${key}`;
  const partial: EntryResult = { index, entry };
  const hasToken = entry.token !== undefined;
  const hasFile = entry.token_file !== undefined;
  if (hasToken && hasFile) {
    errors.push({ file: path, path: at("token"), message: 'both "token" and "token_file" are set', fix: "Keep exactly one of them." });
  } else if (!hasToken && !hasFile) {
    errors.push({
      file: path,
      path: at("token"),
      message: "is required",
      fix: 'Add "token": "machine_<machineId>:worker_<workerId>:secret_<secret>", or "token_file": "path/to/token-file".',
    });
  } else if (hasToken && typeof entry.token === "string" && !flagged.has(at("token"))) {
    const r = checkToken(entry.token);
    if (r.ok) partial.token = r.value;
  } else if (hasFile && typeof entry.token_file === "string" && entry.token_file !== "" && !flagged.has(at("token_file"))) {
    const tokenPath = resolveFromConfigFile(entry.token_file, path, env.home);
    const read = await readTokenFile(tokenPath);
    if (!read.ok) errors.push({ file: path, path: at("token_file"), message: read.message, fix: read.fix });
    else {
      const r = checkToken(read.text);
      if (!r.ok) errors.push({ file: tokenPath, path: at("token_file"), message: `the file's content ${r.message}`, fix: r.fix });
      else {
        partial.token = r.value;
        const w = privateFileWarning(tokenPath, "the token file");
        if (w) warnings.push({ ...w, path: at("token_file") });
      }
    }
  }

  if (typeof entry.working_directory === "string" && entry.working_directory.trim() !== "" && !flagged.has(at("working_directory"))) {
    const dir = resolveFromConfigFile(entry.working_directory, path, env.home);
    const r = checkDirectory(dir, entry.working_directory);
    if (!r.ok) errors.push({ file: path, path: at("working_directory"), message: r.message, fix: r.fix });
    else partial.dir = dir;
  }

  if (typeof entry.opencode_path === "string" && /[/\\]|^~/.test(entry.opencode_path) && !flagged.has(at("opencode_path"))) {
    const bin = resolveFromConfigFile(entry.opencode_path, path, env.home);
    try {
      if (!statSync(bin).isFile()) errors.push({ file: path, path: at("opencode_path"), message: `"${bin}" is not a file`, fix: "Point it at the opencode executable." });
    } catch {
      errors.push({ file: path, path: at("opencode_path"), message: `"${bin}" does not exist`, fix: 'Fix the path, or remove "opencode_path" to use opencode from PATH.' });
    }
  }

  if (typeof entry.name === "string" && !flagged.has(at("name"))) partial.name = entry.name;
  else if (entry.name === undefined && partial.token) partial.name = partial.token.workerId;
  return partial;
}

async function readTokenFile(file: string): Promise<{ ok: true; text: string } | { ok: false; message: string; fix: string }> {
  const read = await readConfigFile(file, "tokenFile");
  if (read.ok) {
    const text = read.text.trim();
    if (text === "") return { ok: false, message: `token file "${file}" is empty`, fix: "Put the worker token in it (one line)." };
    return { ok: true, text };
  }
  if (read.missing) {
    return { ok: false, message: read.message, fix: "Fix the path (relative paths are relative to the config file's folder) or create the file with mode 600." };
  }
  return { ok: false, message: read.message, fix: read.fix };
}

export function checkDuplicates(partials: EntryResult[], errors: ConfigIssue[], warnings: ConfigIssue[]): void {
  const byIdentity = new Map<string, EntryResult>();
  const byName = new Map<string, EntryResult>();
  const byDir = new Map<string, EntryResult>();
  for (const p of partials) {
    const here = `workers[${p.index}]`;
    if (p.token) {
      const key = `${p.token.machineId}\u0000${p.token.workerId}`;
      const first = byIdentity.get(key);
      if (first) {
        errors.push({
          path: `${here}.${p.entry.token_file !== undefined ? "token_file" : "token"}`,
          message: `workers[${first.index}] and ${here} are the same worker (machine ${p.token.machineId}, worker ${p.token.workerId})`,
          fix: "Each entry needs its own worker token: create another worker, or remove one of the two entries.",
        });
      } else byIdentity.set(key, p);
    }
    if (p.name !== undefined) {
      // Names that differ only in case are one name: they would collide in case-insensitive
      // places (folder names on macOS and Windows, people reading `status`).
      const first = byName.get(p.name.toLowerCase());
      const sameWorker = first?.token && p.token && first.token.machineId === p.token.machineId && first.token.workerId === p.token.workerId;
      // Two entries for one worker already got an error; their default names clash only because of it.
      if (first && !(sameWorker && p.entry.name === undefined)) {
        const byCase = first.name !== p.name;
        errors.push({
          path: `${here}.name`,
          message: byCase
            ? `the name "${p.name}" differs from "${first.name}" of workers[${first.index}] only in case; names are compared without case`
            : `the name "${p.name}" is already used by workers[${first.index}]${p.entry.name === undefined ? " (the default name is the worker id)" : ""}`,
          fix: 'Give each worker a distinct "name".',
        });
      } else byName.set(p.name.toLowerCase(), p);
    }
    if (p.dir !== undefined) {
      const key = realDir(p.dir);
      const first = byDir.get(key);
      if (first) {
        warnings.push({
          path: `${here}.working_directory`,
          message: `workers[${first.index}] and ${here} both run in "${p.dir}"; their agents may edit the same files at the same time`,
          fix: "Give each worker its own folder (for example a separate git worktree) unless this is intended.",
        });
      } else byDir.set(key, p);
    }
  }
}

/** Two spellings of one folder (symlink, trailing slash) still count as the same folder. */
function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
