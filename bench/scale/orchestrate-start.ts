// Start → all online as a user sees it: the real `orchestrate` (compiled binary) with a
// workers.json of N entries (tokens made and approved beforehand) against a running backend,
// timed from spawning it until every worker has logged "online" (its register mutation came
// back, so the backend shows it online; checked with admin:list at the end). Idle workers
// start no OpenCode (it starts on a worker's first prompt); the env still points OpenCode at
// a stub so nothing could reach the network.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { opencodeTestEnv } from "../../test/support/opencode-env.ts";
import { start, type Running } from "../../test/support/proc.ts";
import { BINARY, cpuSeconds, createTokens, onlineCount, profilerFlags, startBackend } from "./backend-proc.ts";

export type StartResult = { n: number; ms: number; backendCpuS: number; orchestrateCpuS: number };

export async function orchestrateStart(n: number, root: string): Promise<StartResult> {
  // Tokens are made on a first run of the backend, which then stops: the measured one starts
  // on that data, so its CPU (and a profile of it) holds the workers' start alone.
  const first = await startBackend();
  const tokens = await createTokens(first.admin, n).finally(() => first.stop());
  const b = await startBackend({ reuse: first });
  try {
    const dir = join(root, `start-${n}`);
    const workers = tokens.map((t, i) => {
      const wd = join(dir, `project-${i}`);
      mkdirSync(wd, { recursive: true });
      return { name: `w${i}`, token: t.text, working_directory: wd, convex_url: b.url };
    });
    const config = join(dir, "workers.json");
    writeFileSync(config, JSON.stringify({ workers }), { mode: 0o600 });
    const env = { ...opencodeTestEnv("http://127.0.0.1:9/v1", { root: join(dir, "home") }), NO_COLOR: "1" };
    const cpu0 = cpuSeconds(b.pid);
    const t0 = performance.now();
    const args = ["orchestrate", "--config", config, "--log-format", "json", "--status-address", "127.0.0.1:0"];
    // BENCH_PROFILE_ORCHESTRATE=DIR: run orchestrate from source under Bun's CPU profiler.
    const profile = process.env.BENCH_PROFILE_ORCHESTRATE;
    const proc = profile
      ? start(process.execPath, [...profilerFlags(profile), resolve(import.meta.dirname, "../../src/index.ts"), ...args], { env })
      : start(BINARY, args, { env });
    try {
      await allOnline(proc, n);
      const ms = performance.now() - t0;
      const result = { n, ms, backendCpuS: cpuSeconds(b.pid) - cpu0, orchestrateCpuS: cpuSeconds(proc.child.pid!) };
      const online = await onlineCount(b.admin);
      if (online !== n) throw new Error(`orchestrate logged ${n} workers online but the backend shows ${online}`);
      return result;
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  } finally {
    await b.stop();
  }
}

/** Resolves when `n` workers have logged "online" (counted line by line as stderr grows). */
function allOnline(proc: Running, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    let partial = "";
    const timer = setTimeout(() => reject(new Error(`only ${seen} of ${n} workers online after 120 s\n${proc.stderr.slice(-2000)}`)), 120_000);
    proc.child.stderr!.on("data", (d: Buffer) => {
      const lines = (partial + d.toString()).split("\n");
      partial = lines.pop()!;
      seen += lines.filter((l) => l.includes('"msg":"online"')).length;
      if (seen >= n) {
        clearTimeout(timer);
        resolve();
      }
    });
    void proc.exited.then(() => reject(new Error(`orchestrate exited with ${seen} of ${n} online\n${proc.stderr.slice(-2000)}`)));
  });
}
