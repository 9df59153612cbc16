// Subscriptions re-run only when a commit wrote something they read (counted with the
// engine's query-execution counter), and functions hit the limits of a real deployment.
import { afterEach, describe, expect, test } from "bun:test";
import { makeFunctionReference } from "convex/server";
import { createEngine } from "../../src/local-backend/engine.ts";
import { TRANSACTION_LIMITS } from "../../src/local-backend/transaction.ts";
import { cleanup, eventually, fixtureBackend, httpClient, watch, wsClient } from "./helpers.ts";
import { modules, schema } from "./fixtures/modules.ts";

const byName = makeFunctionReference<"query", { name: string }, { name: string; beats: number } | null>("workers:byName");
const add = makeFunctionReference<"mutation", { name: string }, string>("workers:add");
const beat = makeFunctionReference<"mutation", { name: string }, null>("workers:beat");
const same = makeFunctionReference<"mutation", { name: string }, null>("workers:same");

afterEach(cleanup);

describe("read sets", () => {
  test("a write to worker A re-runs A's subscription only; a write that changes nothing re-runs nothing", async () => {
    const b = await fixtureBackend();
    const http = httpClient(b.url);
    await http.mutation(add, { name: "A" });
    await http.mutation(add, { name: "B" });
    const c = wsClient(b.url);
    const a = watch<{ beats: number } | null>(c, byName, { name: "A" });
    const bb = watch<{ beats: number } | null>(c, byName, { name: "B" });
    await eventually(() => a.state.value?.beats === 0 && bb.state.value?.beats === 0, "both subscriptions");

    let runs = b.engine.stats.queryExecutions;
    await http.mutation(beat, { name: "A" });
    await eventually(() => a.state.value?.beats === 1, "A's new value");
    expect(b.engine.stats.queryExecutions - runs).toBe(1);
    expect(bb.state.updates).toBe(1);

    // Same value written: no commit, no re-run. The write to B afterwards proves the
    // connection was live all along (its update arrives; A's query still did not run).
    const commits = b.engine.stats.commits;
    await http.mutation(same, { name: "A" });
    expect(b.engine.stats.commits).toBe(commits);
    runs = b.engine.stats.queryExecutions;
    await http.mutation(beat, { name: "B" });
    await eventually(() => bb.state.value?.beats === 1, "B's new value");
    expect(b.engine.stats.queryExecutions - runs).toBe(1);
    expect(a.state.updates).toBe(2);
  });

  test("an insert into the range a query read re-runs it; an insert elsewhere does not", async () => {
    const b = await fixtureBackend();
    const http = httpClient(b.url);
    const c = wsClient(b.url);
    const missing = watch(c, byName, { name: "later" });
    const other = watch(c, byName, { name: "other" });
    await eventually(() => missing.state.updates === 1 && other.state.updates === 1, "both empty results");
    const runs = b.engine.stats.queryExecutions;
    await http.mutation(add, { name: "later" });
    await eventually(() => (missing.state.value as { beats: number } | null)?.beats === 0, "the new row");
    expect(b.engine.stats.queryExecutions - runs).toBe(1);
    expect(other.state.updates).toBe(1);
  });
});

describe("snapshots", () => {
  test("a query whose reads a commit changed while it ran runs again: it never mixes two states", async () => {
    const engine = createEngine({ schema, modules });
    const caller = { admin: false };
    for (const name of ["x", "y"]) await engine.call({ udfPath: "workers:add", args: { name }, caller });
    let moved = false;
    // The first run reads x, then a move from x to y commits, then it reads y.
    (globalThis as { betweenReads?: () => Promise<void> }).betweenReads = async () => {
      if (moved) return;
      moved = true;
      const o = await engine.call({ udfPath: "workers:move", args: { from: "x", to: "y" }, caller });
      expect(o.success).toBe(true);
    };
    try {
      const runs = engine.stats.queryExecutions;
      const o = await engine.call({ udfPath: "workers:sum", args: { a: "x", b: "y" }, caller });
      expect(moved).toBe(true);
      expect(o.success && o.value).toBe(0);
      expect(engine.stats.queryExecutions - runs).toBe(2);
    } finally {
      delete (globalThis as { betweenReads?: unknown }).betweenReads;
    }
  });
});

describe("transaction limits", () => {
  test("a query that reads more documents than Convex allows fails like on Convex; the data stays usable", async () => {
    const engine = createEngine({ schema, modules });
    const perMutation = 10_000;
    for (let n = 0; n <= TRANSACTION_LIMITS.documentsRead; n += perMutation) {
      const o = await engine.call({ udfPath: "workers:addMany", args: { prefix: `p${n}-`, n: perMutation }, caller: { admin: false } });
      expect(o.success).toBe(true);
    }
    const o = await engine.call({ udfPath: "workers:countAll", args: {}, caller: { admin: false } });
    expect(o.success).toBe(false);
    if (!o.success) expect(o.errorMessage).toContain(`Too many documents read in a single function execution (limit: ${TRANSACTION_LIMITS.documentsRead})`);
    // An indexed read of one row still works: it reads one document, not the table.
    const one = await engine.call({ udfPath: "workers:byName", args: { name: "p0-5" }, caller: { admin: false } });
    expect(one.success && one.value).toEqual({ name: "p0-5", beats: 0 });
  });

  test("a mutation that writes more documents than Convex allows fails and writes nothing", async () => {
    const engine = createEngine({ schema, modules });
    const o = await engine.call({ udfPath: "workers:addMany", args: { prefix: "x", n: TRANSACTION_LIMITS.documentsWritten + 1 }, caller: { admin: false } });
    expect(o.success).toBe(false);
    if (!o.success) expect(o.errorMessage).toContain(`Too many documents written in a single function execution (limit: ${TRANSACTION_LIMITS.documentsWritten})`);
    const count = await engine.call({ udfPath: "workers:countAll", args: {}, caller: { admin: false } });
    expect(count.success && count.value).toBe(0);
  });

  test("arguments are checked against the function's validators before it runs", async () => {
    const engine = createEngine({ schema, modules });
    const o = await engine.call({ udfPath: "workers:add", args: { name: 42 }, caller: { admin: false } });
    expect(o.success).toBe(false);
    if (!o.success) expect(o.errorMessage).toContain("ArgumentValidationError");
    const count = await engine.call({ udfPath: "workers:countAll", args: {}, caller: { admin: false } });
    expect(count.success && count.value).toBe(0);
  });
});
