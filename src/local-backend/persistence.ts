// The backend's data on disk: one SQLite file (WAL) in a 0700 folder. Each group of commits
// is one SQLite transaction, written and then synced to disk before any of its mutations'
// results go out, so `kill -9` (or a power cut) loses nothing committed and shows nothing
// half-written. The connection holds an exclusive lock for its whole life: a second backend
// on the same folder is refused.
import { convexToJson, jsonToConvex, type Value } from "convex/values";
import { openSqlite, SqliteFailure, type SqliteDb } from "../util/sqlite.ts";
import { BackendDataError, corruptData, prepareDataFile } from "./data-folder.ts";
import type { Doc, DocRec, Write } from "./store.ts";
import { walSync } from "./wal-sync.ts";

export const FORMAT_VERSION = 1;

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

export function docRec(table: string, value: Doc, json?: string): DocRec {
  return { id: value._id, table, value, json: json ?? JSON.stringify(convexToJson(value as Value)) };
}

export async function openPersistence(folder: string): Promise<Persistence> {
  const file = await prepareDataFile(folder);
  let db: SqliteDb;
  try {
    db = await openSqlite(file);
  } catch (e) {
    throw corruptData(folder, (e as Error).message, e);
  }
  lockForLife(db, folder);
  const { lastTs, tableNumbers } = readMeta(db, folder);

  let closed = false;
  const wal = walSync(`${file}-wal`);
  return {
    folder,
    lastTs,
    tableNumbers,
    documents: () => storedDocuments(db, folder),
    commit(ts, writes, numbers) {
      writeCommit(db, ts, writes, numbers);
      wal.written();
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

/** Take the exclusive lock and set up WAL; closes `db` when another backend holds the folder. */
function lockForLife(db: SqliteDb, folder: string): void {
  try {
    // Exclusive locking before WAL is first used: no shared-memory index, and the lock
    // (taken by the first write below) is held until close — or until the process dies.
    db.exec("PRAGMA locking_mode=EXCLUSIVE");
    db.exec("PRAGMA journal_mode=WAL");
    // NORMAL: SQLite syncs the WAL before a checkpoint and the database after one, which keeps
    // the file consistent; the sync after each commit (what FULL adds) is sync() (wal-sync.ts), done
    // off the event loop, and no commit is acknowledged before it finished.
    db.exec("PRAGMA synchronous=NORMAL");
    db.exec("BEGIN IMMEDIATE");
    db.exec("COMMIT");
  } catch (e) {
    db.close();
    if (e instanceof SqliteFailure && e.kind === "busy") {
      throw new BackendDataError("locked", folder, `another backend is already using ${folder}`, "Stop the other `backend` (or `up`) first, or give this one its own folder with --data DIR.", e);
    }
    throw corruptData(folder, (e as Error).message, e);
  }
}

/** Check the file, create the tables, and read what it holds besides documents; closes `db` when it is unusable. */
function readMeta(db: SqliteDb, folder: string): { lastTs: bigint; tableNumbers: [string, number][] } {
  let version: number | undefined;
  let lastTs = 0n;
  let tableNumbers: [string, number][] = [];
  try {
    const check = db.all("PRAGMA quick_check");
    const verdict = check.map((r) => String(Object.values(r)[0])).join("; ");
    if (verdict !== "ok") throw corruptData(folder, verdict.slice(0, 200));
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
    throw corruptData(folder, (e as Error).message, e);
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
  return { lastTs, tableNumbers };
}

function* storedDocuments(db: SqliteDb, folder: string): Generator<DocRec> {
  for (const row of db.all("SELECT tbl, json FROM documents")) {
    const json = String(row.json);
    let value: Doc;
    try {
      value = jsonToConvex(JSON.parse(json)) as Doc;
    } catch (e) {
      throw corruptData(folder, `a stored document cannot be read: ${(e as Error).message}`, e);
    }
    yield docRec(String(row.tbl), value, json);
  }
}

/** One commit as one SQLite transaction: all of it or, when anything fails, none of it. */
function writeCommit(db: SqliteDb, ts: bigint, writes: Iterable<Write>, numbers: [string, number][]): void {
  db.exec("BEGIN");
  try {
    for (const [name, n] of numbers) db.run("INSERT OR REPLACE INTO tables (name, number) VALUES (?, ?)", name, n);
    for (const w of writes) {
      if (w.next) db.run("INSERT OR REPLACE INTO documents (id, tbl, json) VALUES (?, ?, ?)", w.id, w.table, w.next.json);
      else db.run("DELETE FROM documents WHERE id = ?", w.id);
    }
    db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_ts', ?)", ts.toString());
    db.exec("COMMIT");
  } catch (e) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // the failed COMMIT may already have rolled back
    }
    throw e;
  }
}
