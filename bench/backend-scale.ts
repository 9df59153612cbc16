// How the embedded backend scales with idle workers, stored data and durability, as ratios
// measured in one run. Run: npm run build && bun bench/backend-scale.ts [idleSeconds]
//
// Workers are simulated with the real worker-side client (src/backend/worker-client.ts):
// register, the self and pending-work subscriptions, a heartbeat every 15 s — what an idle
// worker costs the backend, without an OpenCode per worker. The backend is the real CLI
// (`dist/opencode-orchestrator backend --data DIR`) in its own process, so its CPU and RSS
// are read from /proc.
import { ConvexHttpClient } from "convex/browser";
import { mutationGeneric, queryGeneric } from "convex/server";
import { v } from "convex/values";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { adminApi } from "../src/backend/api.ts";
import { connectWorkerBackend, type WorkerBackend } from "../src/backend/worker-client.ts";
import { WorkerToken } from "../src/config/token.ts";
import { openEngine, type Engine } from "../src/local-backend/engine.ts";
import type { ModuleMap } from "../src/local-backend/functions.ts";
import { modules, schema } from "../src/local-backend/modules.ts";
import { start } from "../test/support/proc.ts";

const IDLE_SECONDS = Number(process.argv[2] ?? 60);
const HEARTBEAT_MS = 15_000;
const BINARY = resolve(import.meta.dirname, "../dist/opencode-orchestrator");
const TICKS = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startBackend() {
  const dir = mkdtempSync(join(tmpdir(), "bench-backend-"));
  const key = `bench_${randomUUID().replace(/-/g, "")}`;
  const proc = start(BINARY, ["backend", "--port", "0", "--data", dir, "--admin-key", key, "--log-level", "warn"]);
  const [, url] = await proc.waitFor(/^CONVEX_URL=(\S+)$/m, { stream: "stdout" });
  const admin = new ConvexHttpClient(url!, { logger: false });
  (admin as unknown as { setAdminAuth(k: string): void }).setAdminAuth(key);
  return { proc, pid: proc.child.pid!, url: url!, admin };
}

type Sim = { backend: WorkerBackend; instanceId: string; timer?: ReturnType<typeof setInterval> };

async function createTokens(admin: ConvexHttpClient, n: number): Promise<WorkerToken[]> {
  const tokens: WorkerToken[] = [];
  for (let i = 0; i < n; i++) {
    const added = await admin.action(adminApi.addWorker, { machineName: "bench", workerName: `w${i}` });
    await admin.mutation(adminApi.approve, { worker: added.workerId });
    tokens.push(WorkerToken.parse(added.token)!);
  }
  return tokens;
}

async function onlineCount(admin: ConvexHttpClient): Promise<number> {
  return (await admin.query(adminApi.list, {})).filter((w) => w.status === "online").length;
}

async function bringOnline(url: string, tokens: WorkerToken[]): Promise<Sim[]> {
  return Promise.all(
    tokens.map(async (token) => {
      const backend = connectWorkerBackend(url, token);
      const instanceId = randomUUID();
      backend.watchSelf(() => {}, () => {});
      backend.watchPendingWork(() => {}, () => {});
      await backend.register(instanceId, { hostname: "bench", version: "bench", directory: "/tmp" });
      const sim: Sim = { backend, instanceId };
      sim.timer = setInterval(() => void backend.heartbeat(instanceId, false, []).catch(() => {}), HEARTBEAT_MS);
      return sim;
    }),
  );
}

async function untilOnline(admin: ConvexHttpClient, n: number, want: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await onlineCount(admin)) !== want) {
    if (Date.now() > deadline) throw new Error(`only some of ${n} workers reached the wanted state`);
    await sleep(20);
  }
}

async function shutdown(admin: ConvexHttpClient, sims: Sim[]): Promise<{ ms: number; stillOnline: number }> {
  const t0 = performance.now();
  await Promise.all(
    sims.map(async (s) => {
      clearInterval(s.timer);
      await s.backend.goOffline(s.instanceId).catch(() => {});
      await s.backend.close();
    }),
  );
  const ms = performance.now() - t0;
  return { ms, stillOnline: await onlineCount(admin) };
}

async function scenario(n: number, idleSeconds = IDLE_SECONDS) {
  const b = await startBackend();
  try {
    const tokens = await createTokens(b.admin, n);
    const t0 = performance.now();
    const sims = await bringOnline(b.url, tokens);
    await untilOnline(b.admin, n, n);
    const startMs = performance.now() - t0;
    await sleep(2000);
    const cpu0 = cpuSeconds(b.pid);
    const rss0 = rssMb(b.pid);
    await sleep(idleSeconds * 1000);
    const cpuPct = ((cpuSeconds(b.pid) - cpu0) / idleSeconds) * 100;
    const rss1 = rssMb(b.pid);
    const down = await shutdown(b.admin, sims);
    return { n, startMs, cpuPct, rss0, rss1, shutdownMs: down.ms, stillOnline: down.stillOnline };
  } finally {
    b.proc.kill("SIGTERM");
    await b.proc.exited;
  }
}

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

async function indexedQuery() {
  const engine = await openEngine({ schema, modules: benchModules });
  for (let i = 0; i < 10; i++) await engine.call({ udfPath: "bench:machine", args: { name: `m${i}` }, caller: admin });
  await queryMs(engine, 200);
  const empty = await queryMs(engine, 1000);
  for (let from = 0; from < 100_000; from += 10_000) {
    const o = await engine.call({ udfPath: "bench:chunks", args: { from, n: 10_000 }, caller: admin });
    if (!o.success) throw new Error(o.errorMessage);
  }
  await queryMs(engine, 200);
  const full = await queryMs(engine, 1000);
  engine.close();
  return { empty, full };
}

async function mutations(persistent: boolean) {
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

const fmt = (x: number, d = 1) => x.toFixed(d);

console.log(`idle window: ${IDLE_SECONDS} s per run (heartbeat every ${HEARTBEAT_MS / 1000} s)`);
// The single worker is the anchor for start-up time only: a short idle window is enough.
const one = await scenario(1, 5);
const hundred = await scenario(100);
const twoHundred = await scenario(200);
for (const r of [one, hundred, twoHundred]) {
  console.log(
    `${String(r.n).padStart(3)} workers: start→all online ${fmt(r.startMs, 0)} ms, idle CPU ${fmt(r.cpuPct, 2)} % of a core, ` +
      `RSS ${fmt(r.rss0)} → ${fmt(r.rss1)} MB, shutdown ${fmt(r.shutdownMs, 0)} ms, still online after shutdown: ${r.stillOnline}`,
  );
}
console.log(`ratio idle CPU 200/100: ${fmt(twoHundred.cpuPct / Math.max(hundred.cpuPct, 0.01), 2)}×`);
console.log(`ratio start→online 100/1: ${fmt(hundred.startMs / one.startMs, 2)}×`);
console.log(`RSS growth over the idle window: 100 → ${fmt(hundred.rss1 - hundred.rss0)} MB, 200 → ${fmt(twoHundred.rss1 - twoHundred.rss0)} MB`);

const q = await indexedQuery();
console.log(`indexed query median: ${fmt(q.empty, 3)} ms with no other data, ${fmt(q.full, 3)} ms with 100k unrelated chunks → ${fmt(q.full / q.empty, 2)}×`);

const mem = await mutations(false);
const disk = await mutations(true);
console.log(`mutation latency median/p99: in memory ${fmt(mem.median, 3)}/${fmt(mem.p99, 3)} ms, on disk ${fmt(disk.median, 3)}/${fmt(disk.p99, 3)} ms`);
console.log(`mutation throughput (2000 concurrent): in memory ${fmt(mem.perSecond, 0)}/s, on disk ${fmt(disk.perSecond, 0)}/s → ${fmt(mem.perSecond / disk.perSecond, 2)}×`);
