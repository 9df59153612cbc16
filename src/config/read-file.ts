// Every file the config points at is read here, bounded (see util/bounded-read.ts): the
// size caps are defined once, and a failure becomes a message that names the file, what
// it is instead, and the fix.
import { BoundedReadError, formatBytes, readBoundedText, type BoundedReadFailure } from "../util/bounded-read.ts";

/** Far above any real file of each kind, far below what could hurt the process that runs the workers. */
export const FILE_SIZE_LIMITS = {
  workersFile: 1024 * 1024,
  envFile: 256 * 1024,
  tokenFile: 16 * 1024,
} as const;

export type ConfigFileKind = keyof typeof FILE_SIZE_LIMITS;

const NAMES: Record<ConfigFileKind, string> = { workersFile: "workers.json file", envFile: ".env file", tokenFile: "token file" };

export type ReadResult = { ok: true; text: string } | { ok: false; missing: boolean; message: string; fix: string; code?: string };

const KIND_WORDS = {
  folder: "a folder",
  fifo: "a named pipe (FIFO)",
  device: "a device",
  socket: "a socket",
  other: "not a regular file",
} as const;

/** Reads a config-related file; never throws, never blocks, never reads more than the cap. */
export async function readConfigFile(path: string, kind: ConfigFileKind): Promise<ReadResult> {
  try {
    return { ok: true, text: await readBoundedText(path, FILE_SIZE_LIMITS[kind]) };
  } catch (e) {
    if (!(e instanceof BoundedReadError)) throw e;
    return describeFailure(path, kind, e.failure);
  }
}

function describeFailure(path: string, kind: ConfigFileKind, f: BoundedReadFailure): ReadResult & { ok: false } {
  const name = NAMES[kind];
  const shown = `"${path}"`;
  switch (f.reason) {
    case "missing":
      return { ok: false, missing: true, message: `${name} ${shown} does not exist`, fix: "Fix the path or create the file." };
    case "not-regular":
      return {
        ok: false,
        missing: false,
        message: `${shown} is ${KIND_WORDS[f.kind]}, not a ${name}`,
        fix:
          f.kind === "folder"
            ? `Point it at the ${name} itself, not its folder.`
            : `Point it at a regular file. Only regular files are read: a pipe or device could block or never end.`,
      };
    case "too-large":
      return {
        ok: false,
        missing: false,
        message: `${shown} is larger than ${formatBytes(f.maxBytes)}, the most a ${name} may hold`,
        fix: "Check that it is the right file.",
      };
    case "unreadable":
      return {
        ok: false,
        missing: false,
        code: f.code,
        message: `cannot read ${name} ${shown} (${f.code})`,
        fix: f.code === "EACCES" || f.code === "EPERM" ? "Check the file's owner and permissions: the user running the orchestrator must be able to read it." : "Check the file.",
      };
  }
}
