// File-system checks shared by workers.json and .env: private files, folders that exist.
import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";
import type { ConfigIssue } from "../util/errors.ts";
import { exposedModeBits } from "../util/secure-file.ts";

/** A shell-safe rendering of a path for a copy-paste fix. */
export function shellQuote(p: string): string {
  return /^[A-Za-z0-9_@%+=:,./~-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

/** Warning when a file holding secrets can be read by group or others (never an error: it still works). */
export function privateFileWarning(file: string, what: string): ConfigIssue | null {
  let bits: number;
  try {
    bits = exposedModeBits(file) & 0o044;
  } catch {
    return null;
  }
  if (bits === 0) return null;
  const who = bits === 0o044 ? "group and others" : bits & 0o040 ? "group" : "others";
  return {
    file,
    path: "",
    message: `${what} is readable by ${who}, and it holds a worker token`,
    fix: `chmod 600 ${shellQuote(file)}`,
  };
}

export type DirCheck = { ok: true } | { ok: false; message: string; fix: string };

/**
 * The folder must exist, be a directory, and be readable and searchable by this user (the
 * agent runs as this user in it). Messages name the resolved path and the real cause.
 */
export function checkDirectory(resolved: string, written: string): DirCheck {
  const shown = written === resolved ? `"${resolved}"` : `"${resolved}" (from "${written}")`;
  try {
    const st = statSync(resolved);
    if (!st.isDirectory()) return { ok: false, message: `${shown} is not a folder`, fix: "Point it at the project folder, not a file inside it." };
  } catch (e) {
    return statFailure(resolved, shown, (e as NodeJS.ErrnoException).code);
  }
  try {
    accessSync(resolved, constants.R_OK | constants.X_OK);
    return { ok: true };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM") return { ok: false, message: `cannot access folder ${shown} (${code ?? "error"})`, fix: "Check the folder." };
    return { ok: false, message: `folder ${shown} is not ${missingRights(resolved)} by ${whoAmI()}`, fix: permissionFix(resolved) };
  }
}

function statFailure(resolved: string, shown: string, code: string | undefined): DirCheck {
  if (code === "ENOENT" || code === "ENOTDIR") {
    return {
      ok: false,
      message: `folder ${shown} does not exist`,
      fix: `Create it (mkdir -p ${shellQuote(resolved)}) or fix the path. Relative paths are relative to the config file's folder.`,
    };
  }
  if (code === "ELOOP") {
    return {
      ok: false,
      message: `${shown} is a loop of symbolic links that never reaches a folder`,
      fix: `Point it at the real project folder; \`ls -l ${shellQuote(resolved)}\` shows where the link leads.`,
    };
  }
  if (code === "EACCES") {
    const blocked = blockingParent(resolved);
    return {
      ok: false,
      message: blocked ? `folder ${shown} cannot be reached: ${whoAmI()} may not enter "${blocked}"` : `cannot access folder ${shown} (EACCES)`,
      fix: blocked ? permissionFix(blocked) : "Check the permissions of the folder and the folders above it.",
    };
  }
  return { ok: false, message: `cannot access folder ${shown} (${code ?? "error"})`, fix: "Check the folder and the folders above it." };
}

/** "readable", "searchable (x)" or "readable or searchable (x)" for this user. */
function missingRights(dir: string): string {
  const can = (mode: number) => {
    try {
      accessSync(dir, mode);
      return true;
    } catch {
      return false;
    }
  };
  const r = can(constants.R_OK);
  const x = can(constants.X_OK);
  if (!r && !x) return "readable or searchable (r and x)";
  return !r ? "readable (r)" : "searchable (x)";
}

/** The first folder above `dir` this user may not enter, if any. */
function blockingParent(dir: string): string | undefined {
  const chain: string[] = [];
  for (let d = dirname(dir); ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of chain) {
    try {
      accessSync(d, constants.X_OK);
    } catch {
      return d;
    }
  }
  return undefined;
}

function whoAmI(): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  return uid === undefined ? "this user" : `this user (uid ${uid})`;
}

function permissionFix(dir: string): string {
  return `Run the orchestrator as the folder's owner, or give this user access: chmod u+rx ${shellQuote(dir)} (or g+rx with a shared group). \`ls -ld ${shellQuote(dir)}\` shows the owner and mode.`;
}
