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
export type SqliteFailureKind = "busy" | "corrupt" | "not-a-database" | "other";

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

async function openNative(path: string): Promise<Native> {
  // Specifiers built at run time so neither bundle tries to resolve the other runtime's module.
  if (process.versions.bun) {
    const spec = ["bun", "sqlite"].join(":");
    const { Database } = (await import(spec)) as { Database: new (p: string, o?: object) => Native & { query(sql: string): Statement } };
    const db = new Database(path, { create: true });
    return { prepare: (sql) => db.query(sql), exec: (sql) => db.exec(sql), close: () => db.close() };
  }
  silenceSqliteWarning();
  const spec = ["node", "sqlite"].join(":");
  let mod: { DatabaseSync: new (p: string) => Native };
  try {
    mod = (await import(spec)) as typeof mod;
  } catch (e) {
    throw new SqliteFailure("other", `node:sqlite is not available in Node ${process.versions.node ?? "unknown"} (the embedded backend needs Node >= 22.5)`, { cause: e });
  }
  return new mod.DatabaseSync(path);
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
