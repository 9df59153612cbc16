// How many backend writes an answer costs: deltas pushed at OpenCode-like pace through the
// relay with a write that takes as long as a loopback mutation. Run: bun bench/relay-batching.ts
import { createRelay } from "../src/worker/relay.ts";

async function trial(deltas: number, gapMs: number, writeMs: number, windowMs: number) {
  let writes = 0;
  const relay = createRelay({
    windowMs,
    write: async () => {
      writes++;
      await new Promise((r) => setTimeout(r, writeMs));
    },
  });
  const t0 = performance.now();
  for (let i = 0; i < deltas; i++) {
    relay.push(`token${i} `);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  await relay.flush();
  return { writes, ms: performance.now() - t0 };
}

for (const [deltas, gap] of [
  [50, 0],
  [200, 5],
  [500, 10],
] as const) {
  for (const windowMs of [50, 100, 250]) {
    const r = await trial(deltas, gap, 3, windowMs);
    console.log(`${String(deltas).padStart(4)} deltas, ${gap} ms apart, window ${windowMs} ms → ${r.writes} writes in ${r.ms.toFixed(0)} ms`);
  }
}
