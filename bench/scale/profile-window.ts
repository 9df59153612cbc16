// Where the CPU went during one phase of a run: reads a .cpuprofile (Bun's --cpu-prof; set
// BENCH_PROFILE_FORMAT=json with BENCH_PROFILE / BENCH_PROFILE_ORCHESTRATE) and counts only the
// samples between the first whose stack matches --from and the first later one matching --to,
// so a process's own start-up and shutdown do not hide the phase being measured.
//   bun bench/scale/profile-window.ts FILE.cpuprofile [--from REGEX] [--to REGEX] [--top N]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

type Frame = { functionName: string; url: string; lineNumber: number };
type Node = { id: number; callFrame: Frame; children?: number[] };
type Profile = { nodes: Node[]; samples: number[] };

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { from: { type: "string" }, to: { type: "string" }, top: { type: "string", default: "40" } },
});
const profile = JSON.parse(readFileSync(positionals[0]!, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (f: Frame) => `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(node_modules|src|convex)\//, "$1/")}:${f.lineNumber + 1}`;
const stackOf = (id: number): string[] => {
  const out: string[] = [];
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) out.push(label(byId.get(cur)!.callFrame));
  return out;
};

// Counted in samples, not time deltas: JSC takes none while the thread sleeps, so the delta
// before a sample can hold idle time. At the default interval a sample is ≈ 1 ms of CPU.
const from = values.from ? new RegExp(values.from) : null;
const to = values.to ? new RegExp(values.to) : null;
let inWindow = from === null;
const self = new Map<string, number>();
const total = new Map<string, number>();
let windowUs = 0;
let busyUs = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const stack = stackOf(profile.samples[i]!);
  if (!inWindow && from && stack.some((l) => from.test(l))) inWindow = true;
  else if (inWindow && to && stack.some((l) => to.test(l))) break;
  if (!inWindow) continue;
  const us = 1000;
  windowUs += us;
  if (/^\(idle\)|^\(program\)/.test(stack[0]!)) continue;
  busyUs += us;
  self.set(stack[0]!, (self.get(stack[0]!) ?? 0) + us);
  for (const l of new Set(stack)) total.set(l, (total.get(l) ?? 0) + us);
}

const top = Number(values.top);
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [l, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${String(us / 1000).padStart(6)} ${((100 * us) / Math.max(busyUs, 1)).toFixed(1).padStart(5)} %  ${l}`);
  }
};
console.log(`window: ${windowUs / 1000} samples, ${busyUs / 1000} busy`);
show("self", self);
show("total (inclusive)", total);
