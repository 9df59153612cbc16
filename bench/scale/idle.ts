// Idle workers: what N online workers cost the backend while nothing happens (CPU, RSS over
// the window) and how long they take to go offline together. Workers are simulated with the
// real worker-side client (src/backend/worker-client.ts): register, the self and pending-work
// subscriptions, a heartbeat every 15 s — without an OpenCode per worker.
import { randomUUID } from "node:crypto";
import { connectWorkerBackend, type WorkerBackend } from "../../src/backend/worker-client.ts";
import type { WorkerToken } from "../../src/config/token.ts";
import { cpuSeconds, createTokens, onlineCount, rssMb, sleep, startBackend, type BackendProc } from "./backend-proc.ts";

const HEARTBEAT_MS = 15_000;

type Sim = { backend: WorkerBackend; instanceId: string; timer?: ReturnType<typeof setInterval> };

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

async function untilOnline(b: BackendProc, want: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await onlineCount(b.admin)) !== want) {
    if (Date.now() > deadline) throw new Error(`only some of ${want} workers came online`);
    await sleep(20);
  }
}

async function shutdown(b: BackendProc, sims: Sim[]): Promise<{ ms: number; stillOnline: number }> {
  const t0 = performance.now();
  await Promise.all(
    sims.map(async (s) => {
      clearInterval(s.timer);
      await s.backend.goOffline(s.instanceId).catch(() => {});
      await s.backend.close();
    }),
  );
  const ms = performance.now() - t0;
  return { ms, stillOnline: await onlineCount(b.admin) };
}

export type IdleResult = { n: number; cpuPct: number; rss0: number; rss1: number; shutdownMs: number; stillOnline: number };

export async function idleWorkers(n: number, idleSeconds: number): Promise<IdleResult> {
  const b = await startBackend();
  try {
    const tokens = (await createTokens(b.admin, n)).map((t) => t.token);
    const sims = await bringOnline(b.url, tokens);
    await untilOnline(b, n);
    await sleep(2000);
    const cpu0 = cpuSeconds(b.pid);
    const rss0 = rssMb(b.pid);
    await sleep(idleSeconds * 1000);
    const cpuPct = ((cpuSeconds(b.pid) - cpu0) / idleSeconds) * 100;
    const rss1 = rssMb(b.pid);
    const down = await shutdown(b, sims);
    return { n, cpuPct, rss0, rss1, shutdownMs: down.ms, stillOnline: down.stillOnline };
  } finally {
    await b.stop();
  }
}
