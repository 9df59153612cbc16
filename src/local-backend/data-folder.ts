// The backend's data folder before SQLite opens it, and the ways it can be unusable. Every
// refusal says what is wrong with which folder and how to fix it; none changes the data.
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { RuntimeFailure } from "../util/errors.ts";
import { ensureSecureDir, SECRET_FILE_MODE } from "../util/secure-file.ts";
import { requireSqlite } from "../util/sqlite.ts";

export const DATA_FILE = "backend.sqlite3";

export type DataProblem = "locked" | "corrupt" | "newer-version" | "unreadable" | "no-sqlite";

/** The data folder cannot be used; the message names the folder and the fix. */
export class BackendDataError extends RuntimeFailure {
  readonly folder: string;
  readonly problem: DataProblem;
  constructor(problem: DataProblem, folder: string, message: string, hint: string, cause?: unknown) {
    super(message, { hint, cause });
    this.folder = folder;
    this.problem = problem;
  }
}

export function corruptData(folder: string, detail: string, cause?: unknown): BackendDataError {
  return new BackendDataError(
    "corrupt",
    folder,
    `the backend's data in ${folder} is damaged (${detail})`,
    `Nothing was changed. Restore ${join(folder, DATA_FILE)} from a backup, or move the folder away to start with an empty backend (--data DIR chooses another folder).`,
    cause,
  );
}

/** The data file's path, once this runtime has SQLite and the file exists 0600 and looks like SQLite. */
export async function prepareDataFile(folder: string): Promise<string> {
  const file = join(folder, DATA_FILE);
  try {
    await requireSqlite();
  } catch (e) {
    // This runtime has no SQLite: the data is fine (and untouched), the fix is another runtime.
    throw new BackendDataError(
      "no-sqlite",
      folder,
      `the embedded backend cannot keep its data in ${folder}: ${(e as Error).message}`,
      "Nothing was changed. Use the standalone executable (dist/opencode-orchestrator) or Node 22.5 or newer; `backend --in-memory` runs without storage.",
      e,
    );
  }
  try {
    ensureSecureDir(folder);
    // Created 0600 before SQLite opens it; SQLite gives its -wal file the same mode.
    if (!existsSync(file)) closeSync(openSync(file, "a", SECRET_FILE_MODE));
  } catch (e) {
    throw new BackendDataError("unreadable", folder, `cannot use ${folder} for the backend's data: ${(e as Error).message}`, "Check that the folder is yours and writable, or choose another with --data DIR.", e);
  }
  if (!looksLikeSqlite(file)) throw corruptData(folder, "not an SQLite database");
  return file;
}

const SQLITE_MAGIC = "SQLite format 3\0";

function looksLikeSqlite(path: string): boolean {
  const size = statSync(path).size;
  if (size === 0) return true; // created but never written: SQLite treats it as empty
  if (size < 100) return false;
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(16);
    readSync(fd, head, 0, 16, 0);
    return head.toString("latin1") === SQLITE_MAGIC;
  } finally {
    closeSync(fd);
  }
}
