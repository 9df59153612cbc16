// The backend's data on disk: restarts after SIGTERM and after kill -9 in the middle of
// writes keep every committed write and hand out new ids; damaged, truncated or
// newer-format data is refused with the documented error and left as it was; a second
// backend on the same folder is refused.
import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { openEngine } from "../../src/local-backend/engine.ts";
import { BackendDataError, DATA_FILE } from "../../src/local-backend/data-folder.ts";
import { openSqlite } from "../../src/util/sqlite.ts";
import { start, type Running } from "../support/proc.ts";
import { tempDir } from "../support/tmp.ts";
import { modules, schema } from "./fixtures/modules.ts";

const SCRIPT = join(import.meta.dirname, "fixtures/persistent-backend.ts");
const add = makeFunctionReference<"mutation", { name: string }, string>("workers:add");
const all = makeFunctionReference<"query", Record<string, never>, { id: string; name: string; created: number }[]>("workers:all");

const procs: Running[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill("SIGKILL");
});

async function startProc(dataDir: string, port = 0) {
  const p = start(process.execPath, [SCRIPT, dataDir, String(port)]);
  procs.push(p);
  const [, url] = await p.waitFor(/^URL=(\S+)$/m, { stream: "stdout" });
  const [, key] = await p.waitFor(/^KEY=(\S+)$/m, { stream: "stdout" });
  return { p, url: url!, key: key! };
}

const digest = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

async function openError(dataDir: string): Promise<BackendDataError> {
  try {
    const engine = await openEngine({ schema, modules, dataDir });
    engine.close();
  } catch (e) {
    expect(e).toBeInstanceOf(BackendDataError);
    return e as BackendDataError;
  }
  throw new Error("the data folder was accepted");
}

/** A folder holding some committed data, with the backend closed again. */
async function folderWithData(): Promise<string> {
  const dir = join(tempDir("data-"), "backend");
  const engine = await openEngine({ schema, modules, dataDir: dir });
  for (let i = 0; i < 50; i++) {
    const o = await engine.call({ udfPath: "workers:add", args: { name: `w${i}` }, caller: { admin: false } });
    expect(o.success).toBe(true);
  }
  engine.close();
  return dir;
}

describe("restart", () => {
  test("after SIGTERM: all data back with the same ids, creation times and admin key; new ids are new", async () => {
    const dir = join(tempDir("data-"), "backend");
    const first = await startProc(dir);
    const http = new ConvexHttpClient(first.url, { logger: false });
    for (let i = 0; i < 20; i++) await http.mutation(add, { name: `w${i}` });
    const before = await http.query(all, {});
    first.p.kill("SIGTERM");
    expect((await first.p.exited).code).toBe(0);

    const second = await startProc(dir);
    expect(second.key).toBe(first.key);
    const http2 = new ConvexHttpClient(second.url, { logger: false });
    expect(await http2.query(all, {})).toEqual(before);
    const fresh = await Promise.all(Array.from({ length: 20 }, (_, i) => http2.mutation(add, { name: `n${i}` })));
    const old = new Set(before.map((r) => r.id));
    expect(fresh.filter((id) => old.has(id))).toEqual([]);
    const created = (await http2.query(all, {})).filter((r) => r.name.startsWith("n")).map((r) => r.created);
    expect(Math.min(...created)).toBeGreaterThan(Math.max(...before.map((r) => r.created)));
  });

  test("after kill -9 in the middle of writes: every acknowledged write is there, nothing half-written", async () => {
    const dir = join(tempDir("data-"), "backend");
    const first = await startProc(dir);
    const http = new ConvexHttpClient(first.url, { logger: false });
    const acknowledged: string[] = [];
    let stop = false;
    // Several writers at once, so the kill lands while commits are being written.
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          acknowledged.push(await new ConvexHttpClient(first.url, { logger: false }).mutation(add, { name: `k${w}-${i}` }));
        } catch {
          return;
        }
      }
    });
    while (acknowledged.length < 200) await new Promise((r) => setTimeout(r, 5));
    first.p.kill("SIGKILL");
    await first.p.exited;
    stop = true;
    await Promise.all(writers);
    void http;

    const second = await startProc(dir);
    const rows = await new ConvexHttpClient(second.url, { logger: false }).query(all, {});
    const stored = new Set(rows.map((r) => r.id));
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    // Every stored row is whole (schema-valid, as the query read it) and unique.
    expect(stored.size).toBe(rows.length);
    for (const r of rows) expect(r.name).toMatch(/^k\d-\d+$/);
    const fresh = await new ConvexHttpClient(second.url, { logger: false }).mutation(add, { name: "after" });
    expect(stored.has(fresh)).toBe(false);
  });
});

describe("commits on disk", () => {
  test("concurrent mutations are written together yet each sees the ones before it: one claim wins", async () => {
    const dir = join(tempDir("data-"), "backend");
    const engine = await openEngine({ schema, modules, dataDir: dir });
    const sent = await engine.call({ udfPath: "messages:send", args: { body: "job", author: "x" }, caller: { admin: false } });
    if (!sent.success) throw new Error(sent.errorMessage);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => engine.call({ udfPath: "messages:claim", args: { id: sent.value, who: `w${i}` }, caller: { admin: false } })),
    );
    const wins = results.filter((r) => r.success && (r.value as { claimed: boolean }).claimed);
    expect(wins).toHaveLength(1);
    const winner = (wins[0] as unknown as { value: { by: string } }).value.by;
    for (const r of results) expect(r.success && (r.value as { by: string }).by).toBe(winner);
    engine.close();
    const again = await openEngine({ schema, modules, dataDir: dir });
    const list = await again.call({ udfPath: "messages:list", args: {}, caller: { admin: false } });
    expect(list.success && list.value).toEqual([{ id: sent.value, body: "job", author: "x", status: "running", claimedBy: winner }]);
    again.close();
  });
});

describe("commit groups", () => {
  // Commits staged while an earlier group is being synced form the next group; each result
  // comes back only once its group is durable and applied, so a caller reads its own write.
  test("many mutations at once: each reads its own write once answered, commits land in order, all are there after a restart", async () => {
    const dir = join(tempDir("data-"), "backend");
    const engine = await openEngine({ schema, modules, dataDir: dir });
    const order: bigint[] = [];
    engine.onCommit((_o, c) => void (c && order.push(c.ts)));
    const names = Array.from({ length: 120 }, (_, i) => `g${i}`);
    const ids = await Promise.all(
      names.map(async (name) => {
        const o = await engine.call({ udfPath: "workers:add", args: { name }, caller: { admin: false } });
        if (!o.success) throw new Error(o.errorMessage);
        const seen = await engine.call({ udfPath: "workers:all", args: {}, caller: { admin: false } });
        expect(seen.success && (seen.value as { id: string }[]).some((r) => r.id === o.value)).toBe(true);
        return o.value as string;
      }),
    );
    expect(new Set(ids).size).toBe(120);
    expect(order).toHaveLength(120);
    expect(order).toEqual([...order].sort((a, b) => (a < b ? -1 : 1)));
    engine.close();
    const again = await openEngine({ schema, modules, dataDir: dir });
    const rows = await again.call({ udfPath: "workers:all", args: {}, caller: { admin: false } });
    expect(rows.success && (rows.value as { id: string }[]).map((r) => r.id).sort()).toEqual([...ids].sort());
    again.close();
  });

  test("closing while a group is being synced: every staged mutation is answered and kept", async () => {
    const dir = join(tempDir("data-"), "backend");
    const engine = await openEngine({ schema, modules, dataDir: dir });
    const call = (name: string) => engine.call({ udfPath: "workers:add", args: { name }, caller: { admin: false } });
    const first = call("first");
    // Let the first group be written and its sync start, then stage more and close at once.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const rest = Array.from({ length: 5 }, (_, i) => call(`late${i}`));
    await new Promise((r) => setImmediate(r));
    engine.close();
    const outcomes = await Promise.all([first, ...rest]);
    expect(outcomes.map((o) => o.success)).toEqual([true, true, true, true, true, true]);
    const again = await openEngine({ schema, modules, dataDir: dir });
    const rows = await again.call({ udfPath: "workers:all", args: {}, caller: { admin: false } });
    expect(rows.success && (rows.value as { name: string }[]).map((r) => r.name).sort()).toEqual(["first", "late0", "late1", "late2", "late3", "late4"]);
    again.close();
  });
});

describe("refused data", () => {
  test("a corrupt file: the documented error naming the folder, file untouched", async () => {
    const dir = await folderWithData();
    const file = join(dir, DATA_FILE);
    const bytes = readFileSync(file);
    // Damage the middle of the file (document pages), not the header.
    for (let i = 4096 + 100; i < Math.min(bytes.length, 4096 * 3); i += 7) bytes[i] = 0xa5;
    writeFileSync(file, bytes);
    const sum = digest(file);
    const e = await openError(dir);
    expect(e.problem).toBe("corrupt");
    expect(e.message).toContain(dir);
    expect(e.hint).toContain("--data");
    expect(digest(file)).toBe(sum);
  });

  test("a truncated file is refused, file untouched", async () => {
    const dir = await folderWithData();
    const file = join(dir, DATA_FILE);
    truncateSync(file, Math.floor(statSync(file).size / 2) + 123);
    const sum = digest(file);
    const e = await openError(dir);
    expect(e.problem).toBe("corrupt");
    expect(e.message).toContain(dir);
    expect(digest(file)).toBe(sum);
  });

  test("not a database at all is refused, file untouched", async () => {
    const dir = await folderWithData();
    const file = join(dir, DATA_FILE);
    writeFileSync(file, "hello, this is not SQLite\n".repeat(20));
    const e = await openError(dir);
    expect(e.problem).toBe("corrupt");
    expect(readFileSync(file, "utf8")).toStartWith("hello");
  });

  test("data from a newer format version is refused, file untouched", async () => {
    const dir = await folderWithData();
    const file = join(dir, DATA_FILE);
    const db = await openSqlite(file);
    db.run("UPDATE meta SET value = '99' WHERE key = 'format_version'");
    db.close();
    const sum = digest(file);
    const e = await openError(dir);
    expect(e.problem).toBe("newer-version");
    expect(e.message).toContain(dir);
    expect(e.message).toContain("newer version");
    expect(digest(file)).toBe(sum);
  });

  test("a second backend on the same folder refuses while the first runs, and starts once it is gone", async () => {
    const dir = await folderWithData();
    const first = await startProc(dir);
    const e = await openError(dir);
    expect(e.problem).toBe("locked");
    expect(e.message).toContain(dir);
    const second = start(process.execPath, [SCRIPT, dir]);
    procs.push(second);
    expect((await second.exited).code).toBe(1);
    expect(second.stderr).toContain("another backend is already using");
    first.p.kill("SIGKILL");
    await first.p.exited;
    const third = await startProc(dir);
    expect(await new ConvexHttpClient(third.url, { logger: false }).query(all, {})).toHaveLength(50);
  });
});
