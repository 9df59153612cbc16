// Writing files that hold secrets: created folders get 0700, the file gets 0600, and the
// write is atomic (temp file in the same folder + rename), so a crash or a concurrent
// reader never sees half a file and the secret is never briefly world-readable.
import { closeSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, realpathSync, renameSync, statSync, chmodSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";

export const SECRET_FILE_MODE = 0o600;
export const SECRET_DIR_MODE = 0o700;

/** mkdir -p where every folder we create is 0700 (existing folders are left alone). */
export function ensureSecureDir(dir: string): void {
  const missing: string[] = [];
  let d = dir;
  for (;;) {
    try {
      statSync(d);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      missing.push(d);
      const parent = dirname(d);
      if (parent === d) break;
      d = parent;
    }
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m, { mode: SECRET_DIR_MODE });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      continue;
    }
    // mkdir's mode is filtered by the umask; set it exactly.
    if (process.platform !== "win32") chmodSync(m, SECRET_DIR_MODE);
  }
}

export type SecureWriteOptions = {
  /** Fail with EEXIST instead of replacing an existing file (still atomic). */
  exclusive?: boolean;
};

/**
 * Atomically writes `data` to `path` with mode 0600, creating missing folders with 0700.
 * A symlink at `path` is followed, so the link keeps pointing at the updated file.
 */
export function writeSecureFile(path: string, data: string | Uint8Array, opts: SecureWriteOptions = {}): void {
  let target = path;
  try {
    if (lstatSync(path).isSymbolicLink()) target = realpathSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const dir = dirname(target);
  ensureSecureDir(dir);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(temp, "wx", SECRET_FILE_MODE);
  try {
    try {
      if (process.platform !== "win32") chmodSync(temp, SECRET_FILE_MODE);
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (opts.exclusive) {
      // link() fails if the name exists: no window where another writer's file is replaced.
      linkSync(temp, target);
      unlinkSync(temp);
    } else {
      renameSync(temp, target);
    }
  } catch (e) {
    try {
      unlinkSync(temp);
    } catch {
      // already renamed or never created
    }
    throw e;
  }
  syncDir(dir);
}

/** Makes the rename durable across a power cut; best effort (not every platform allows it). */
function syncDir(dir: string): void {
  if (process.platform === "win32") return;
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not supported here; the data itself is already synced
  }
}

/** Group/others permission bits of a file that should be private, or 0 (always 0 on Windows). */
export function exposedModeBits(path: string): number {
  if (process.platform === "win32") return 0;
  return statSync(path).mode & 0o077;
}
