// The backend's data on disk: one SQLite file (WAL) in a 0700 folder. Each group of commits
// is one SQLite transaction, written and then synced to disk before any of its mutations'
// results go out, so `kill -9` (or a power cut) loses nothing committed and shows nothing
// half-written. The connection holds an exclusive lock for its whole life: a second backend
// on the same folder is refused.
import { closeSync, existsSync, fdatasync, fdatasyncSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { convexToJson, jsonToConvex, type Value } from "convex/values";
import { RuntimeFailure } from "../util/errors.ts";
import { ensureSecureDir, SECRET_FILE_MODE } from "../util/secure-file.ts";
import { openSqlite, requireSqlite, SqliteFailure, type SqliteDb } from "../util/sqlite.ts";
import type { Doc, DocRec, Write } from "./store.ts";

export const DATA_FILE = "backend.sqlite3";
export const FORMAT_VERSION = 1;

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

export type Persistence = {
  readonly folder: string;
  readonly lastTs: bigint;
  readonly tableNumbers: [string, number][];
  /** Every stored document, in no particular order. */
  documents(): Iterable<DocRec>;
  /** Write one commit (all or nothing); durable once a later sync() or syncNow() finished. */
  commit(ts: bigint, writes: Iterable<Write>, tableNumbers: [string, number][]): void;
  /** Make every commit written so far durable, off the event loop. */
  sync(): Promise<void>;
  /** The same, blocking (closing, or when nothing may run before it). */
  syncNow(): void;
  close(): void;
};

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

export function docRec(table: string, value: Doc, json?: string): DocRec {
  return { id: value._id, table, value, json: json ?? JSON.stringify(convexToJson(value as Value)) };
}

export async function openPersistence(folder: string): Promise<Persistence> {
  const file = join(folder, DATA_FILE);
  const corrupt = (detail: string, cause?: unknown) =>
    new BackendDataError(
      "corrupt",
      folder,
      `the backend's data in ${folder} is damaged (${detail})`,
      `Nothing was changed. Restore ${file} from a backup, or move the folder away to start with an empty backend (--data DIR chooses another folder).`,
      cause,
    );
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
  if (!looksLikeSqlite(file)) throw corrupt("not an SQLite database");

  let db: SqliteDb;
  try {
    db = await openSqlite(file);
  } catch (e) {
    throw corrupt((e as Error).message, e);
  }
  try {
    // Exclusive locking before WAL is first used: no shared-memory index, and the lock
    // (taken by the first write below) is held until close — or until the process dies.
    db.exec("PRAGMA locking_mode=EXCLUSIVE");
    db.exec("PRAGMA journal_mode=WAL");
    // NORMAL: SQLite syncs the WAL before a checkpoint and the database after one, which keeps
    // the file consistent; the sync after each commit (what FULL adds) is sync() below, done
    // off the event loop, and no commit is acknowledged before it finished.
    db.exec("PRAGMA synchronous=NORMAL");
    db.exec("BEGIN IMMEDIATE");
    db.exec("COMMIT");
  } catch (e) {
    db.close();
    if (e instanceof SqliteFailure && e.kind === "busy") {
      throw new BackendDataError("locked", folder, `another backend is already using ${folder}`, "Stop the other `backend` (or `up`) first, or give this one its own folder with --data DIR.", e);
    }
    throw corrupt((e as Error).message, e);
  }
  let version: number | undefined;
  let lastTs = 0n;
  let tableNumbers: [string, number][] = [];
  try {
    const check = db.all("PRAGMA quick_check");
    const verdict = check.map((r) => String(Object.values(r)[0])).join("; ");
    if (verdict !== "ok") throw corrupt(verdict.slice(0, 200));
    db.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    db.exec("CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, tbl TEXT NOT NULL, json TEXT NOT NULL)");
    db.exec("CREATE TABLE IF NOT EXISTS tables (name TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE)");
    const meta = new Map(db.all("SELECT key, value FROM meta").map((r) => [String(r.key), String(r.value)]));
    if (meta.has("format_version")) version = Number(meta.get("format_version"));
    if (meta.has("last_ts")) lastTs = BigInt(meta.get("last_ts")!);
    tableNumbers = db.all("SELECT name, number FROM tables").map((r) => [String(r.name), Number(r.number)]);
  } catch (e) {
    db.close();
    if (e instanceof BackendDataError) throw e;
    throw corrupt((e as Error).message, e);
  }
  if (version !== undefined && version > FORMAT_VERSION) {
    db.close();
    throw new BackendDataError(
      "newer-version",
      folder,
      `the backend's data in ${folder} was written by a newer version of opencode-orchestrator (data format ${version}, this version reads up to ${FORMAT_VERSION})`,
      "Nothing was changed. Upgrade opencode-orchestrator, or choose another folder with --data DIR.",
    );
  }
  if (version === undefined) db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('format_version', ?)", String(FORMAT_VERSION));

  let closed = false;
  const wal = walSync(`${file}-wal`);
  return {
    folder,
    lastTs,
    tableNumbers,
    *documents() {
      for (const row of db.all("SELECT tbl, json FROM documents")) {
        const json = String(row.json);
        let value: Doc;
        try {
          value = jsonToConvex(JSON.parse(json)) as Doc;
        } catch (e) {
          throw corrupt(`a stored document cannot be read: ${(e as Error).message}`, e);
        }
        yield docRec(String(row.tbl), value, json);
      }
    },
    commit(ts, writes, numbers) {
      db.exec("BEGIN");
      try {
        for (const [name, n] of numbers) db.run("INSERT OR REPLACE INTO tables (name, number) VALUES (?, ?)", name, n);
        for (const w of writes) {
          if (w.next) db.run("INSERT OR REPLACE INTO documents (id, tbl, json) VALUES (?, ?, ?)", w.id, w.table, w.next.json);
          else db.run("DELETE FROM documents WHERE id = ?", w.id);
        }
        db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_ts', ?)", ts.toString());
        db.exec("COMMIT");
        wal.written();
      } catch (e) {
        try {
          db.exec("ROLLBACK");
        } catch {
          // the failed COMMIT may already have rolled back
        }
        throw e;
      }
    },
    sync: () => wal.sync(),
    syncNow: () => wal.syncNow(),
    close() {
      if (closed) return;
      closed = true;
      db.close();
      wal.close();
    },
  };
}

/**
 * Syncing the WAL file, where every commit lands first (SQLite keeps it while the exclusive
 * connection is open). Opened on the first commit, when it surely exists; its descriptor is
 * closed only once no sync runs on it, so a late one cannot hit a reused descriptor.
 */
function walSync(path: string) {
  let fd: number | undefined;
  let dirty = false;
  let running = 0;
  let closed = false;
  const open = () => (fd ??= openSync(path, "r"));
  const release = () => {
    if (closed && running === 0 && fd !== undefined) closeSync(fd);
    if (closed && running === 0) fd = undefined;
  };
  return {
    written: () => void (dirty = true),
    // Nothing written since the last sync that finished: nothing to wait for.
    sync(): Promise<void> {
      if (!dirty && running === 0) return Promise.resolve();
      dirty = false;
      const target = open();
      running++;
      return new Promise<void>((resolve, reject) =>
        fdatasync(target, (e) => {
          running--;
          release();
          if (e) reject(e);
          else resolve();
        }),
      );
    },
    syncNow(): void {
      if (!dirty && running === 0) return;
      dirty = false;
      fdatasyncSync(open());
    },
    close(): void {
      closed = true;
      release();
    },
  };
}
