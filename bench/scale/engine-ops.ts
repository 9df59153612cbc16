// In-process engine measures: an indexed query's cost with and without 100k unrelated
// documents stored, and mutation latency and throughput in memory vs on disk (SQLite with
// a flush to disk per commit group) — the engine alone, without the network.
import { mutationGeneric, queryGeneric } from "convex/server";
import { v } from "convex/values";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEngine, type Engine } from "../../src/local-backend/engine.ts";
import type { ModuleMap } from "../../src/local-backend/functions.ts";
import { modules, schema } from "../../src/local-backend/modules.ts";

// A module of bench-only functions next to convex/: bulk inserts of unrelated chunks and a
// plain insert for write latency.
const benchModule = {
  chunks: mutationGeneric({
    args: { from: v.number(), n: v.number() },
    handler: async (ctx, { from, n }) => {
      const session = await ctx.db.insert("sessions", { workerId: "bench", title: "bench", createdAt: 0 });
      const message = await ctx.db.insert("messages", {
        sessionId: session,
        workerId: "bench",
        role: "assistant",
        text: "",
        attempts: 0,
        cancelRequested: false,
        nextSeq: 0,
        createdAt: 0,
      });
      for (let i = 0; i < n; i++) await ctx.db.insert("outputChunks", { messageId: message, seq: from + i, text: "x".repeat(200) });
    },
  }),
  machine: mutationGeneric({
    args: { name: v.string() },
    handler: async (ctx, { name }) => ctx.db.insert("machines", { machineId: name, name, createdAt: Date.now() }),
  }),
  byName: queryGeneric({
    args: { name: v.string() },
    handler: async (ctx, { name }) => ctx.db.query("machines").withIndex("by_name", (q) => q.eq("name", name)).unique(),
  }),
};
const benchModules: ModuleMap = { ...modules, "convex/bench.ts": async () => benchModule };
const admin = { admin: true };

async function queryMs(engine: Engine, times: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    const o = await engine.call({ udfPath: "bench:byName", args: { name: `m${i % 10}` }, caller: admin });
    samples.push(performance.now() - t0);
    if (!o.success) throw new Error(o.errorMessage);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

export async function indexedQuery(chunks = 100_000) {
  const engine = await openEngine({ schema, modules: benchModules });
  for (let i = 0; i < 10; i++) await engine.call({ udfPath: "bench:machine", args: { name: `m${i}` }, caller: admin });
  await queryMs(engine, 200);
  const empty = await queryMs(engine, 1000);
  for (let from = 0; from < chunks; from += 10_000) {
    const o = await engine.call({ udfPath: "bench:chunks", args: { from, n: 10_000 }, caller: admin });
    if (!o.success) throw new Error(o.errorMessage);
  }
  await queryMs(engine, 200);
  const full = await queryMs(engine, 1000);
  engine.close();
  return { empty, full };
}

export async function engineMutations(persistent: boolean) {
  const engine = await openEngine({ schema, modules: benchModules, ...(persistent ? { dataDir: mkdtempSync(join(tmpdir(), "bench-data-")) } : {}) });
  const samples: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t0 = performance.now();
    await engine.call({ udfPath: "bench:machine", args: { name: `s${i}` }, caller: admin });
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const t0 = performance.now();
  const n = 2000;
  await Promise.all(Array.from({ length: n }, (_, i) => engine.call({ udfPath: "bench:machine", args: { name: `c${i}` }, caller: admin })));
  const perSecond = n / ((performance.now() - t0) / 1000);
  engine.close();
  return { median: samples[500]!, p99: samples[990]!, perSecond };
}
