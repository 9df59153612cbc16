// Backend CPU per answer as data accumulates: waves of answers driven through the worker
// protocol with the unmodified convex clients, as `chat` and a worker do it — a person sends a
// prompt (HTTP) and follows the message live (WebSocket); the worker, seeing it in its
// pending-work subscription, claims it, streams the answer in numbered batches with text and
// tool parts, and finishes it. The backend is the real CLI in its own process: its CPU time
// per wave comes from /proc, so the bench's own clients do not count.
import { randomUUID } from "node:crypto";
import { connectAdmin, type AdminClient } from "../../src/backend/admin-client.ts";
import type { PartUpdate, PendingWork } from "../../src/backend/api.ts";
import { connectWorkerBackend, type WorkerBackend } from "../../src/backend/worker-client.ts";
import { cpuSeconds, createTokens, rssMb, type BackendProc } from "./backend-proc.ts";

/** Batches per answer and text per batch: roughly what the relay writes for a short answer. */
const BATCHES = 8;
const TEXT = "lorem ipsum dolor sit amet ".repeat(12);

type SimWorker = { backend: WorkerBackend; instanceId: string; sessionId: string; queued: Set<string>; changed: Set<() => void> };

async function onlineWorkers(b: BackendProc, admin: AdminClient, n: number): Promise<SimWorker[]> {
  const tokens = await createTokens(b.admin, n, "answers-");
  return Promise.all(
    tokens.map(async ({ token }, i) => {
      const backend = connectWorkerBackend(b.url, token);
      const sim: SimWorker = { backend, instanceId: randomUUID(), sessionId: "", queued: new Set(), changed: new Set() };
      await backend.register(sim.instanceId, { hostname: "bench", version: "bench", directory: "/tmp" });
      backend.watchSelf(() => {}, () => {});
      backend.watchPendingWork(
        (w: PendingWork) => {
          sim.queued = new Set(w.queued.map((m) => m.messageId));
          for (const f of [...sim.changed]) f();
        },
        () => {},
      );
      sim.sessionId = (await admin.createSession(`answers-${i}`, "bench")).sessionId;
      return sim;
    }),
  );
}

/** Resolves once the worker's pending-work subscription lists `messageId`. */
function queuedFor(w: SimWorker, messageId: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!w.queued.has(messageId)) return;
      w.changed.delete(check);
      resolve();
    };
    w.changed.add(check);
    check();
  });
}

function toolPart(n: number): PartUpdate {
  const tool = { name: "read", callId: `call-${n}`, status: "completed" as const, title: "read a.txt", input: "a.txt", output: "hello", error: null, truncated: [] };
  return { key: `tool-${n}`, kind: "tool", tool };
}

async function answer(admin: AdminClient, w: SimWorker, n: number): Promise<void> {
  const { messageId } = await admin.send(w.sessionId, `question ${n}`);
  const done = new Promise<void>((resolve, reject) => {
    const stop = admin.watchMessage(messageId, (v) => v?.status === "completed" && (stop(), resolve()), reject);
  });
  await queuedFor(w, messageId);
  const claim = await w.backend.claim(w.instanceId, messageId);
  if (!claim.claimed) throw new Error(`the bench's worker could not claim ${messageId}: ${claim.reason}`);
  let seq = 0;
  let text = 0;
  for (let i = 0; i < BATCHES; i++) {
    const parts: PartUpdate[] = [{ key: "text", kind: "text", start: 0, end: (text += TEXT.length) }, ...(i === 3 ? [toolPart(n)] : [])];
    seq = await w.backend.appendOutput(w.instanceId, messageId, seq, TEXT, parts);
  }
  await w.backend.finish(w.instanceId, messageId, "completed");
  await done;
}

export type Wave = { answers: number; cpuMsPerAnswer: number; wallMs: number; rssMb: number };

/**
 * `waves` waves of `perWave` answers over `workers` simulated workers (one answer at a time
 * each), after `warmup` answers that are not counted (the first calls compile the code).
 */
export async function answerWaves(b: BackendProc, o: { warmup: number; waves: number; perWave: number; workers: number }): Promise<Wave[]> {
  const admin = connectAdmin(b.url, b.key);
  const sims = await onlineWorkers(b, admin, o.workers);
  const out: Wave[] = [];
  let n = 0;
  const wave = (perWave: number) => {
    const share = Math.ceil(perWave / o.workers);
    return Promise.all(
      sims.map(async (w) => {
        for (let i = 0; i < share; i++) await answer(admin, w, n++);
      }),
    ).then(() => share * o.workers);
  };
  try {
    await wave(o.warmup);
    for (let i = 0; i < o.waves; i++) {
      const cpu0 = cpuSeconds(b.pid);
      const t0 = performance.now();
      const answers = await wave(o.perWave);
      out.push({ answers, cpuMsPerAnswer: ((cpuSeconds(b.pid) - cpu0) * 1000) / answers, wallMs: performance.now() - t0, rssMb: rssMb(b.pid) });
    }
  } finally {
    for (const w of sims) await w.backend.close();
    await admin.close();
  }
  return out;
}
