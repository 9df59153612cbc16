// Reading a file someone pointed us at (a config, a token file, a .env) without trusting it:
// regular files only, at most `maxBytes`, and never an open that can block. A FIFO opened
// for reading blocks until a writer appears, and a blocking open in the process that runs
// every worker freezes them all; /dev/zero never ends. So the open is non-blocking, the
// kind of file is checked on the open descriptor (no race with a rename), and the read
// stops one byte past the cap.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";

export type NotRegularKind = "folder" | "fifo" | "device" | "socket" | "other";

/** Why a bounded read failed; callers turn it into a message naming the file and the fix. */
export type BoundedReadFailure =
  | { reason: "missing" }
  | { reason: "not-regular"; kind: NotRegularKind }
  | { reason: "too-large"; maxBytes: number }
  | { reason: "unreadable"; code: string };

export class BoundedReadError extends Error {
  readonly path: string;
  readonly failure: BoundedReadFailure;
  constructor(path: string, failure: BoundedReadFailure) {
    super(`${path}: ${failure.reason}`);
    this.name = "BoundedReadError";
    this.path = path;
    this.failure = failure;
  }
}

// O_NONBLOCK does not exist on Windows, where opening a named pipe does not wait for a
// writer the same way; there the stat before the open is the check.
const NONBLOCK = (constants as Record<string, number | undefined>).O_NONBLOCK;
const NOCTTY = (constants as Record<string, number | undefined>).O_NOCTTY ?? 0;

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): NotRegularKind {
  if (st.isDirectory()) return "folder";
  if (st.isFIFO()) return "fifo";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "device";
  if (st.isSocket()) return "socket";
  return "other";
}

function failureOf(e: unknown): BoundedReadFailure {
  const code = (e as NodeJS.ErrnoException).code ?? "error";
  if (code === "ENOENT" || code === "ENOTDIR") return { reason: "missing" };
  if (code === "EISDIR") return { reason: "not-regular", kind: "folder" };
  return { reason: "unreadable", code };
}

function asBoundedError(path: string, e: unknown): BoundedReadError {
  return e instanceof BoundedReadError ? e : new BoundedReadError(path, failureOf(e));
}

type Stats = Parameters<typeof kindOf>[0] & { isFile(): boolean; size: number };

function checkRegular(path: string, st: Stats, maxBytes?: number): void {
  if (!st.isFile()) throw new BoundedReadError(path, { reason: "not-regular", kind: kindOf(st) });
  if (maxBytes !== undefined && st.size > maxBytes) throw new BoundedReadError(path, { reason: "too-large", maxBytes });
}

/** The read went one byte past the cap when the file grew after fstat: refused too. */
function decoded(path: string, buf: Buffer, used: number, maxBytes: number): string {
  if (used > maxBytes) throw new BoundedReadError(path, { reason: "too-large", maxBytes });
  return buf.subarray(0, used).toString("utf8").replace(/^\uFEFF/, "");
}

const OPEN_FLAGS = constants.O_RDONLY | (NONBLOCK ?? 0) | NOCTTY;

/** The whole text of a regular file of at most `maxBytes` bytes (UTF-8, a leading BOM dropped). */
export async function readBoundedText(path: string, maxBytes: number): Promise<string> {
  let handle: FileHandle;
  try {
    // stat first, so a device is never opened at all (opening some has side effects); the
    // fstat below still catches a file swapped in between.
    checkRegular(path, await stat(path));
    handle = await open(path, OPEN_FLAGS);
  } catch (e) {
    throw asBoundedError(path, e);
  }
  try {
    checkRegular(path, await handle.stat(), maxBytes);
    // The size can change between fstat and read (a file being written): read one byte past
    // the cap so a file that grew is refused too, and never more.
    const buf = Buffer.alloc(maxBytes + 1);
    let used = 0;
    while (used < buf.length) {
      const { bytesRead } = await handle.read(buf, used, buf.length - used, used);
      if (bytesRead === 0) break;
      used += bytesRead;
    }
    return decoded(path, buf, used, maxBytes);
  } catch (e) {
    throw asBoundedError(path, e);
  } finally {
    await handle.close().catch(() => {});
  }
}

/** readBoundedText for the callers that must stay synchronous (a sandbox plan is built so). */
export function readBoundedTextSync(path: string, maxBytes: number): string {
  let fd: number;
  try {
    checkRegular(path, statSync(path));
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    throw asBoundedError(path, e);
  }
  try {
    checkRegular(path, fstatSync(fd), maxBytes);
    const buf = Buffer.alloc(maxBytes + 1);
    let used = 0;
    while (used < buf.length) {
      const n = readSync(fd, buf, used, buf.length - used, used);
      if (n === 0) break;
      used += n;
    }
    return decoded(path, buf, used, maxBytes);
  } catch (e) {
    throw asBoundedError(path, e);
  } finally {
    closeSync(fd);
  }
}

/** "1 MiB", "64 KiB": caps as people read them. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
