// How long `--help` and `--version` take for the compiled binary and the Node bundle.
// The binary must not pay for modules --help does not use. Run: bun bench/cli-startup.ts
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const targets: [string, string, string[]][] = [
  ["binary", join(root, "dist/opencode-orchestrator"), []],
  ["node", "node", [join(root, "dist/cli.mjs")]],
];
const RUNS = 20;

for (const [label, cmd, pre] of targets) {
  for (const args of [["--help"], ["--version"], ["validate", "--help"]]) {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const r = spawnSync(cmd, [...pre, ...args], { stdio: "ignore" });
      times.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`${label} ${args.join(" ")} exited ${r.status}`);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    console.log(`${label.padEnd(6)} ${args.join(" ").padEnd(16)} median ${median.toFixed(1)} ms  (min ${times[0]!.toFixed(1)}, max ${times.at(-1)!.toFixed(1)}, ${RUNS} runs)`);
  }
}
