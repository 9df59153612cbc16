// SQLite behind one small interface: bun:sqlite under Bun (the compiled binary), node:sqlite
// under Node >= 22.5 (the Node bundle). Both are synchronous, which is what we want: a
// commit is written and fsynced before the function's result is returned.
import { errorMessage } from "./errors.ts";

export type SqliteParam = string | number | bigint | null;
export type SqliteRow = Record<string, unknown>;

export type SqliteDb = {
  exec(sql: string): void;
  all(sql: string, ...params: SqliteParam[]): SqliteRow[];
  run(sql: string, ...params: SqliteParam[]): void;
  close(): void;
};

/** What went wrong, in words both engines agree on. */
export type SqliteFailureKind = "busy" | "corrupt" | "not-a-database" | "unavailable" | "other";

export class SqliteFailure extends Error {
  readonly kind: SqliteFailureKind;
  constructor(kind: SqliteFailureKind, message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.kind = kind;
  }
}

function classify(e: unknown): SqliteFailure {
  const message = errorMessage(e);
  const kind: SqliteFailureKind = /locked|SQLITE_BUSY|busy/i.test(message)
    ? "busy"
    : /not a database|SQLITE_NOTADB/i.test(message)
      ? "not-a-database"
      : /malformed|corrupt|SQLITE_CORRUPT|disk I\/O/i.test(message)
        ? "corrupt"
        : "other";
  return new SqliteFailure(kind, message, { cause: e });
}

function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw classify(e);
  }
}

type Statement = { all(...p: SqliteParam[]): unknown[]; run(...p: SqliteParam[]): unknown };
type Native = { prepare(sql: string): Statement; exec(sql: string): unknown; close(): unknown };

let silenced = false;
// node:sqlite prints "ExperimentalWarning: SQLite is an experimental feature" on first use;
// that one line would land in the `backend` command's stderr on every start.
function silenceSqliteWarning(): void {
  if (silenced) return;
  silenced = true;
  const original = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === "string" ? warning : warning.message;
    if (/SQLite is an experimental feature/i.test(text)) return;
    return (original as (...a: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}

type NodeSqlite = { DatabaseSync: new (p: string) => Native };

/** node:sqlite, or an "unavailable" failure (Node < 22.5, or disabled with --no-experimental-sqlite). */
async function nodeSqlite(): Promise<NodeSqlite> {
  silenceSqliteWarning();
  // Specifier built at run time so the Bun build does not try to resolve Node's module.
  const spec = ["node", "sqlite"].join(":");
  try {
    return (await import(spec)) as NodeSqlite;
  } catch (e) {
    throw new SqliteFailure("unavailable", `this Node (${process.versions.node ?? "unknown"}) has no node:sqlite, which the embedded backend needs (Node 22.5 or newer)`, { cause: e });
  }
}

/** Throws an "unavailable" SqliteFailure when this runtime has no SQLite; touches no file. */
export async function requireSqlite(): Promise<void> {
  if (!process.versions.bun) await nodeSqlite();
}

async function openNative(path: string): Promise<Native> {
  if (process.versions.bun) {
    const spec = ["bun", "sqlite"].join(":");
    const { Database } = (await import(spec)) as { Database: new (p: string, o?: object) => Native & { query(sql: string): Statement } };
    const db = new Database(path, { create: true });
    return { prepare: (sql) => db.query(sql), exec: (sql) => db.exec(sql), close: () => db.close() };
  }
  return new (await nodeSqlite()).DatabaseSync(path);
}

export async function openSqlite(path: string): Promise<SqliteDb> {
  let native: Native;
  try {
    native = await openNative(path);
  } catch (e) {
    throw e instanceof SqliteFailure ? e : classify(e);
  }
  const statements = new Map<string, Statement>();
  const statement = (sql: string) => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, (s = guarded(() => native.prepare(sql))));
    return s;
  };
  return {
    exec: (sql) => guarded(() => void native.exec(sql)),
    all: (sql, ...params) => guarded(() => statement(sql).all(...params) as SqliteRow[]),
    run: (sql, ...params) => guarded(() => void statement(sql).run(...params)),
    close: () => {
      statements.clear();
      guarded(() => native.close());
    },
  };
}
