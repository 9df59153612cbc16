// The backend under test: the real CLI (`dist/opencode-orchestrator backend --data DIR`) in
// its own process, so its CPU and RSS are read from /proc, apart from the bench's own.
import { ConvexHttpClient } from "convex/browser";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { adminApi } from "../../src/backend/api.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { start, type Running } from "../../test/support/proc.ts";

// BENCH_BINARY=PATH: measure another build (an older one, for a before/after in one run).
export const BINARY = process.env.BENCH_BINARY ?? resolve(import.meta.dirname, "../../dist/opencode-orchestrator");
const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

export function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type BackendProc = { proc: Running; pid: number; url: string; key: string; dir: string; admin: ConvexHttpClient; stop(): Promise<void> };

/**
 * Bun's CPU profiler writing into `dir`: markdown, or with BENCH_PROFILE_FORMAT=json a
 * .cpuprofile (per-sample times, for bench/scale/profile-window.ts to cut out one phase).
 */
export function profilerFlags(dir: string): string[] {
  return [process.env.BENCH_PROFILE_FORMAT === "json" ? "--cpu-prof" : "--cpu-prof-md", `--cpu-prof-dir=${dir}`];
}

/** A backend on a fresh folder, or on `reuse`'s folder with its key (data kept from before). */
export async function startBackend(o: { inMemory?: boolean; reuse?: { dir: string; key: string } } = {}): Promise<BackendProc> {
  const dir = o.reuse?.dir ?? mkdtempSync(join(tmpdir(), "bench-backend-"));
  const key = o.reuse?.key ?? `bench_${randomUUID().replace(/-/g, "")}`;
  const storage = o.inMemory ? ["--in-memory"] : ["--data", dir];
  const args = ["backend", "--port", "0", ...storage, "--admin-key", key, "--log-level", "warn"];
  // BENCH_PROFILE=DIR: run the backend from source under Bun's CPU profiler (markdown into DIR).
  const profile = process.env.BENCH_PROFILE;
  const proc = profile ? start(process.execPath, [...profilerFlags(profile), resolve(import.meta.dirname, "../../src/index.ts"), ...args]) : start(BINARY, args);
  const [, url] = await proc.waitFor(/^CONVEX_URL=(\S+)$/m, { stream: "stdout" });
  const admin = new ConvexHttpClient(url!, { logger: false });
  (admin as unknown as { setAdminAuth(k: string): void }).setAdminAuth(key);
  return {
    proc,
    pid: proc.child.pid!,
    url: url!,
    key,
    dir,
    admin,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** N workers added and approved (tokens made beforehand, as a person would). */
export async function createTokens(admin: ConvexHttpClient, n: number, prefix = "w"): Promise<{ text: string; token: WorkerToken }[]> {
  const tokens: { text: string; token: WorkerToken }[] = [];
  for (let i = 0; i < n; i++) {
    const added = await admin.action(adminApi.addWorker, { machineName: "bench", workerName: `${prefix}${i}` });
    await admin.mutation(adminApi.approve, { worker: added.workerId });
    tokens.push({ text: added.token, token: WorkerToken.parse(added.token)! });
  }
  return tokens;
}

export async function onlineCount(admin: ConvexHttpClient): Promise<number> {
  return (await admin.query(adminApi.list, {})).filter((w) => w.status === "online").length;
}
