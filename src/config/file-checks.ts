// File-system checks shared by workers.json and .env: private files, folders that exist.
import { statSync } from "node:fs";
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

/** The folder must exist and be a directory; messages name the resolved path. */
export function checkDirectory(resolved: string, written: string): DirCheck {
  const shown = written === resolved ? `"${resolved}"` : `"${resolved}" (from "${written}")`;
  try {
    const st = statSync(resolved);
    if (!st.isDirectory()) return { ok: false, message: `${shown} is not a folder`, fix: "Point it at the project folder, not a file inside it." };
    return { ok: true };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      return {
        ok: false,
        message: `folder ${shown} does not exist`,
        fix: `Create it (mkdir -p ${shellQuote(resolved)}) or fix the path. Relative paths are relative to the config file's folder.`,
      };
    }
    return { ok: false, message: `cannot access folder ${shown} (${code ?? "error"})`, fix: "Check the folder's permissions." };
  }
}
