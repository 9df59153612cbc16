// Mutation latency and throughput through the protocol, backend on disk vs in memory: a
// worker's heartbeat (the most frequent mutation) sent over the unmodified convex client —
// one at a time for latency, from many workers at once for throughput. On disk every
// acknowledged mutation has been flushed (WAL, synchronous=FULL); concurrent ones share a flush.
import { randomUUID } from "node:crypto";
import { connectWorkerBackend, type WorkerBackend } from "../../src/backend/worker-client.ts";
import { cpuSeconds, createTokens, startBackend } from "./backend-proc.ts";

export type WireMutations = { medianMs: number; p99Ms: number; perSecond: number; cpuMsPerMutation: number };

async function online(url: string, tokens: Awaited<ReturnType<typeof createTokens>>): Promise<{ backend: WorkerBackend; id: string }[]> {
  return Promise.all(
    tokens.map(async ({ token }) => {
      const backend = connectWorkerBackend(url, token);
      const id = randomUUID();
      await backend.register(id, { hostname: "bench", version: "bench", directory: "/tmp" });
      return { backend, id };
    }),
  );
}

export async function wireMutations(o: { inMemory: boolean; sequential: number; clients: number; perClient: number }): Promise<WireMutations> {
  const b = await startBackend({ inMemory: o.inMemory });
  try {
    const sims = await online(b.url, await createTokens(b.admin, o.clients, "m"));
    const first = sims[0]!;
    const samples: number[] = [];
    for (let i = 0; i < o.sequential; i++) {
      const t0 = performance.now();
      await first.backend.heartbeat(first.id, false, []);
      samples.push(performance.now() - t0);
    }
    samples.sort((a, c) => a - c);
    const cpu0 = cpuSeconds(b.pid);
    const t0 = performance.now();
    await Promise.all(sims.map(async (s) => {
      for (let i = 0; i < o.perClient; i++) await s.backend.heartbeat(s.id, false, []);
    }));
    const total = o.clients * o.perClient;
    const seconds = (performance.now() - t0) / 1000;
    const cpuMsPerMutation = ((cpuSeconds(b.pid) - cpu0) * 1000) / total;
    for (const s of sims) await s.backend.close();
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(samples.length * q))]!;
    return { medianMs: at(0.5), p99Ms: at(0.99), perSecond: total / seconds, cpuMsPerMutation };
  } finally {
    await b.stop();
  }
}
