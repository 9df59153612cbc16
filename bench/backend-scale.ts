// How the embedded backend scales, as ratios measured in one run, each against its target
// (issue 9). Run after `bun run build` (the backend and orchestrate are the real binary):
//   bun bench/backend-scale.ts [--short] [--idle SECONDS] [--only idle,start,answers,query,mutations]
// --short: a quick pass (10 s idle windows, smaller waves and data) — the ratios hold, the
// absolute numbers are noisier. CPU time comes from /proc per process, so the bench's own
// clients never count as the backend's; on a busy machine prefer the CPU rows to wall-clock.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { answerWaves } from "./scale/answers.ts";
import { startBackend } from "./scale/backend-proc.ts";
import { engineMutations, indexedQuery } from "./scale/engine-ops.ts";
import { idleWorkers } from "./scale/idle.ts";
import { orchestrateStart, type StartResult } from "./scale/orchestrate-start.ts";
import { median, ms, printTable, type Row } from "./scale/report.ts";
import { wireMutations } from "./scale/wire-mutations.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { short: { type: "boolean", default: false }, idle: { type: "string" }, only: { type: "string" } },
});
const short = values.short!;
const idleSeconds = Number(values.idle ?? positionals[0] ?? (short ? 10 : 300));
const only = new Set((values.only ?? "idle,start,answers,query,mutations").split(","));
const rows: Row[] = [];

async function idleRows(): Promise<void> {
  const hundred = await idleWorkers(100, idleSeconds);
  const twoHundred = await idleWorkers(200, idleSeconds);
  const ratio = twoHundred.cpuPct / Math.max(hundred.cpuPct, 0.01);
  rows.push({ measure: `idle CPU, 100 workers (${idleSeconds} s)`, value: `${hundred.cpuPct.toFixed(2)} % of a core`, target: "≤ 1 %", pass: hundred.cpuPct <= 1 });
  rows.push({ measure: "idle CPU, 200 workers", value: `${twoHundred.cpuPct.toFixed(2)} %`, anchor: "100 workers", ratio, target: "≤ 2.5×", pass: ratio <= 2.5 });
  for (const r of [hundred, twoHundred]) {
    const growth = r.rss1 - r.rss0;
    // Flat = no growth: a leak grows; a collection that frees memory meanwhile is fine.
    rows.push({ measure: `RSS over the window, ${r.n} workers`, value: `${r.rss0.toFixed(1)} → ${r.rss1.toFixed(1)} MB`, target: "flat (grows ≤ 5 %)", pass: growth <= r.rss0 * 0.05 });
  }
  for (const [r, limit] of [[hundred, 1000], [twoHundred, 2000]] as const) {
    rows.push({ measure: `shutdown, ${r.n} workers`, value: `${ms(r.shutdownMs)}, ${r.stillOnline} still online`, target: `≤ ${limit} ms, none online`, pass: r.shutdownMs <= limit && r.stillOnline === 0 });
  }
}

async function startRows(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "bench-start-"));
  const runs = async (n: number, times: number): Promise<StartResult[]> => {
    const out: StartResult[] = [];
    for (let i = 0; i < times; i++) out.push(await orchestrateStart(n, root));
    return out;
  };
  const one = await runs(1, short ? 3 : 5);
  const hundred = await runs(100, short ? 2 : 3);
  const wall1 = median(one.map((r) => r.ms));
  const wall100 = median(hundred.map((r) => r.ms));
  const cpu = (rs: StartResult[], k: "backendCpuS" | "orchestrateCpuS") => median(rs.map((r) => r[k] * 1000));
  rows.push({ measure: "start → all online, 100 workers (orchestrate)", value: ms(wall100), anchor: ms(wall1), ratio: wall100 / wall1, target: "≤ 3×", pass: wall100 / wall1 <= 3 });
  // CPU ticks are 10 ms: the 1-worker anchors are near the resolution, so ratios only for the sum.
  const total = (rs: StartResult[]) => cpu(rs, "backendCpuS") + cpu(rs, "orchestrateCpuS");
  rows.push({ measure: "  backend CPU during it, 100 workers", value: ms(cpu(hundred, "backendCpuS")), anchor: ms(cpu(one, "backendCpuS")) });
  rows.push({ measure: "  orchestrate CPU (whole process), 100 workers", value: ms(cpu(hundred, "orchestrateCpuS")), anchor: ms(cpu(one, "orchestrateCpuS")) });
  rows.push({ measure: "  both processes' CPU, 100 workers", value: ms(total(hundred)), anchor: ms(total(one)), ratio: total(hundred) / total(one) });
}

async function answerRows(): Promise<void> {
  const b = await startBackend();
  try {
    const perWave = short ? 60 : 200;
    const waves = await answerWaves(b, { warmup: 20, waves: 3, perWave, workers: 4 });
    const first = waves[0]!.cpuMsPerAnswer;
    waves.forEach((w, i) => {
      const ratio = w.cpuMsPerAnswer / first;
      const last = i === waves.length - 1;
      rows.push({
        measure: `backend CPU per answer, wave ${i + 1} of ${w.answers}`,
        value: `${w.cpuMsPerAnswer.toFixed(1)} ms (RSS ${w.rssMb.toFixed(0)} MB)`,
        ...(i > 0 ? { anchor: "wave 1", ratio } : {}),
        ...(last ? { target: "flat (≤ 1.2×)", pass: ratio <= 1.2 } : {}),
      });
    });
  } finally {
    await b.stop();
  }
}

async function queryRows(): Promise<void> {
  const chunks = short ? 20_000 : 100_000;
  const q = await indexedQuery(chunks);
  rows.push({ measure: `indexed query, ${chunks / 1000}k unrelated chunks stored`, value: ms(q.full, 3), anchor: `${ms(q.empty, 3)} (none)`, ratio: q.full / q.empty, target: "≤ 1.5×", pass: q.full / q.empty <= 1.5 });
}

async function mutationRows(): Promise<void> {
  const mem = await engineMutations(false);
  const disk = await engineMutations(true);
  rows.push({ measure: "engine mutation latency median/p99, on disk", value: `${ms(disk.median, 3)} / ${ms(disk.p99, 3)}`, anchor: `${ms(mem.median, 3)} / ${ms(mem.p99, 3)} (in memory)`, ratio: disk.median / mem.median });
  rows.push({ measure: "engine mutation throughput (2000 at once), on disk", value: `${disk.perSecond.toFixed(0)}/s`, anchor: `${mem.perSecond.toFixed(0)}/s (in memory)`, ratio: disk.perSecond / mem.perSecond });
  const shape = { sequential: short ? 200 : 500, clients: 50, perClient: short ? 10 : 40 };
  const wm = await wireMutations({ inMemory: true, ...shape });
  const wd = await wireMutations({ inMemory: false, ...shape });
  rows.push({ measure: "heartbeat over the protocol median/p99, on disk", value: `${ms(wd.medianMs, 2)} / ${ms(wd.p99Ms, 2)}`, anchor: `${ms(wm.medianMs, 2)} / ${ms(wm.p99Ms, 2)} (in memory)`, ratio: wd.medianMs / wm.medianMs });
  rows.push({ measure: `heartbeats/s from ${shape.clients} workers at once, on disk`, value: `${wd.perSecond.toFixed(0)}/s`, anchor: `${wm.perSecond.toFixed(0)}/s (in memory)`, ratio: wd.perSecond / wm.perSecond });
  rows.push({ measure: "  backend CPU per heartbeat, on disk", value: ms(wd.cpuMsPerMutation, 2), anchor: `${ms(wm.cpuMsPerMutation, 2)} (in memory)`, ratio: wd.cpuMsPerMutation / wm.cpuMsPerMutation });
}

const sections: [string, () => Promise<void>][] = [["start", startRows], ["answers", answerRows], ["query", queryRows], ["mutations", mutationRows], ["idle", idleRows]];
for (const [name, run] of sections) {
  if (!only.has(name)) continue;
  const t0 = performance.now();
  await run();
  console.error(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
printTable(rows);
