// Reading a file someone pointed us at (a config, a token file, a .env) without trusting it:
// regular files only, at most `maxBytes`, and never an open that can block. A FIFO opened
// for reading blocks until a writer appears, and a blocking open in the process that runs
// every worker freezes them all; /dev/zero never ends. So the open is non-blocking, the
// kind of file is checked on the open descriptor (no race with a rename), and the read
// stops one byte past the cap.
import { constants } from "node:fs";
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

/** The whole text of a regular file of at most `maxBytes` bytes (UTF-8, a leading BOM dropped). */
export async function readBoundedText(path: string, maxBytes: number): Promise<string> {
  let handle: FileHandle;
  try {
    // stat first, so a device is never opened at all (opening some has side effects); the
    // fstat below still catches a file swapped in between.
    const st = await stat(path);
    if (!st.isFile()) throw new BoundedReadError(path, { reason: "not-regular", kind: kindOf(st) });
    handle = await open(path, constants.O_RDONLY | (NONBLOCK ?? 0) | NOCTTY);
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    throw new BoundedReadError(path, failureOf(e));
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new BoundedReadError(path, { reason: "not-regular", kind: kindOf(st) });
    if (st.size > maxBytes) throw new BoundedReadError(path, { reason: "too-large", maxBytes });
    // The size can change between fstat and read (a file being written): read one byte past
    // the cap so a file that grew is refused too, and never more.
    const buf = Buffer.alloc(maxBytes + 1);
    let used = 0;
    while (used < buf.length) {
      const { bytesRead } = await handle.read(buf, used, buf.length - used, used);
      if (bytesRead === 0) break;
      used += bytesRead;
    }
    if (used > maxBytes) throw new BoundedReadError(path, { reason: "too-large", maxBytes });
    return buf.subarray(0, used).toString("utf8").replace(/^\uFEFF/, "");
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    throw new BoundedReadError(path, failureOf(e));
  } finally {
    await handle.close().catch(() => {});
  }
}

/** "1 MiB", "64 KiB": caps as people read them. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
