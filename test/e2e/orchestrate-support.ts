// Shared by the orchestrate end-to-end tests: write workers.json, start `orchestrate` as a real
// child process (compiled binary or Node bundle) with JSON logs and a status endpoint on a free
// port, read /status, /healthz and /metrics, and make sure nothing we started outlives a test.
import { chmodSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StatusDoc, WorkerStatusDoc } from "../../src/manager/status.ts";
import { startCli, type CliTarget } from "../support/cli.ts";
import { useSharedWorld, type startWorld, type World } from "../support/e2e.ts";
import type { Running } from "../support/proc.ts";
import { tempDir } from "../support/tmp.ts";

export type WorkerEntry = {
  name?: string;
  token?: string;
  token_file?: string;
  working_directory: string;
  convex_url: string;
  max_concurrent_sessions?: number;
  turn_inactivity_timeout?: number;
  heartbeat_interval?: number;
  agent_idle_timeout?: number;
};

export type WorkersFile = { workers: WorkerEntry[]; shutdown_timeout?: number; status_address?: string };

/** Writes workers.json the way editors do (new file, then rename), mode 0600. */
export function writeConfig(path: string, cfg: WorkersFile | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, typeof cfg === "string" ? cfg : JSON.stringify(cfg, null, 2) + "\n", { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** A fresh folder holding workers.json; returns the file's path. */
export function configPath(): string {
  return join(tempDir("cfg-"), "workers.json");
}

export type LogLine = { time: string; level: string; msg: string; worker?: string; [k: string]: unknown };

export type Orchestrator = {
  proc: Running;
  /** http://127.0.0.1:<port>, as the orchestrator logged it. */
  base: string;
  address: string;
  /** stderr lines parsed as JSON; a line that is not JSON fails the test. */
  logs(): LogLine[];
  get(path: string): Promise<{ code: number; type: string; body: string }>;
  status(): Promise<StatusDoc>;
  worker(name: string): Promise<WorkerStatusDoc | undefined>;
  waitForStatus(pred: (s: StatusDoc) => boolean, what: string, timeoutMs?: number): Promise<StatusDoc>;
  waitForLog(pred: (l: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** Every OpenCode pid /status ever showed (for the leftover checks and cleanup). */
  opencodePids: Set<number>;
};

const started: Running[] = [];
const pidsToReap = new Set<number>();

export function parseLogLines(stderr: string): LogLine[] {
  return stderr
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      try {
        return JSON.parse(l) as LogLine;
      } catch {
        throw new Error(`a stderr line is not JSON: ${l}`);
      }
    });
}

export async function startOrchestrate(o: {
  target: CliTarget;
  config: string;
  env: Record<string, string>;
  args?: string[];
  /** Wait for the status endpoint (default true). */
  waitForStatus?: boolean;
}): Promise<Orchestrator> {
  const args = ["orchestrate", "--config", o.config, "--log-format", "json", "--status-address", "127.0.0.1:0", ...(o.args ?? [])];
  const proc = startCli(o.target, args, { env: o.env });
  started.push(proc);
  let base = "";
  let address = "";
  if (o.waitForStatus !== false) {
    const m = await proc.waitFor(/"msg":"status on http:\/\/(127\.0\.0\.1:\d+)\/status"/, { stream: "stderr", timeoutMs: 60_000 });
    address = m[1]!;
    base = `http://${address}`;
  }
  const opencodePids = new Set<number>();
  const get = async (path: string) => {
    const res = await fetch(base + path, { signal: AbortSignal.timeout(10_000) });
    return { code: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() };
  };
  const status = async () => {
    const r = await get("/status");
    if (r.code !== 200) throw new Error(`/status answered ${r.code}: ${r.body}`);
    const doc = JSON.parse(r.body) as StatusDoc;
    for (const w of doc.workers) {
      if (w.opencodePid !== null) {
        opencodePids.add(w.opencodePid);
        pidsToReap.add(w.opencodePid);
      }
    }
    return doc;
  };
  const logs = () => parseLogLines(proc.stderr);
  return {
    proc,
    base,
    address,
    logs,
    get,
    status,
    worker: async (name) => (await status()).workers.find((w) => w.name === name),
    opencodePids,
    async waitForStatus(pred, what, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last: StatusDoc | undefined;
      for (;;) {
        last = await status();
        if (pred(last)) return last;
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${what}; last /status: ${JSON.stringify(last.workers, null, 1)}\nstderr:\n${proc.stderr}`);
        }
        await sleep(150);
      }
    },
    async waitForLog(pred, what, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = logs().find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`timed out waiting for log: ${what}\nstderr:\n${proc.stderr}`);
        await sleep(100);
      }
    },
  };
}

/** Kills every orchestrator and every OpenCode server the tests saw. Call in afterEach/afterAll. */
export async function cleanupProcesses(): Promise<void> {
  for (const p of started.splice(0)) {
    // OCO_TEST_DUMP=1 prints what each orchestrator logged (for debugging a failure).
    if (process.env.OCO_TEST_DUMP) console.error(`---- orchestrate pid ${p.child.pid} stderr ----\n${p.stderr}`);
    if (p.child.exitCode === null && p.child.signalCode === null) p.kill("SIGKILL");
    await Promise.race([p.exited, sleep(5_000)]);
  }
  for (const pid of [...pidsToReap]) {
    pidsToReap.delete(pid);
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

/** Remember a pid to kill at cleanup (e.g. an OpenCode server left behind on purpose). */
export function reapLater(pid: number): void {
  pidsToReap.add(pid);
}

/** The process runs. A zombie (dead, waiting for init to reap it) does not count. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return process.platform !== "linux";
  }
}

export async function waitUntil(pred: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- Prometheus text format ----------------------------------------------------------------

export type Sample = { name: string; labels: Record<string, string>; value: number };
export type Metrics = { samples: Sample[]; types: Map<string, string>; help: Map<string, string> };

/**
 * A strict parser for the Prometheus text exposition format (0.0.4) as far as we emit it:
 * `# HELP`, `# TYPE`, and samples `name{label="value",...} number`. Anything else throws, as
 * does a sample without a TYPE line before it or a duplicate series.
 */
export function parsePrometheus(text: string): Metrics {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const seen = new Set<string>();
  if (!text.endsWith("\n")) throw new Error("metrics text must end with a newline");
  for (const [i, line] of text.split("\n").entries()) {
    if (line === "") continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      if (kind === "TYPE") {
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest!)) throw new Error(`line ${i + 1}: bad type ${rest}`);
        if (types.has(name!)) throw new Error(`line ${i + 1}: second TYPE for ${name}`);
        types.set(name!, rest!);
      } else help.set(name!, rest!);
      continue;
    }
    if (line.startsWith("#")) throw new Error(`line ${i + 1}: unknown comment: ${line}`);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|\+Inf|-Inf))$/.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not a sample: ${line}`);
    const [, name, , labelText, value] = m;
    const labels: Record<string, string> = {};
    if (labelText) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
      let pos = 0;
      while (pos < labelText.length) {
        re.lastIndex = pos;
        const l = re.exec(labelText);
        if (!l) throw new Error(`line ${i + 1}: bad labels: ${labelText}`);
        labels[l[1]!] = l[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
        pos = re.lastIndex;
      }
    }
    if (!types.has(name!)) throw new Error(`line ${i + 1}: sample ${name} has no TYPE line before it`);
    const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(series)) throw new Error(`line ${i + 1}: duplicate series ${series}`);
    seen.add(series);
    samples.push({ name: name!, labels, value: Number(value) });
  }
  return { samples, types, help };
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when absent. */
export function metric(m: Metrics, name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = m.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}

// ---- secrets -----------------------------------------------------------------------------------

/** The secret part of a worker token. */
export function secretOf(token: string): string {
  const m = /:secret_(.+)$/.exec(token);
  if (!m) throw new Error("not a token");
  return m[1]!;
}

/** Fails when `text` holds a token's secret, or `secret_` followed by anything but the mask. */
export function assertNoSecrets(where: string, text: string, tokens: string[]): void {
  for (const t of tokens) {
    if (text.includes(secretOf(t))) throw new Error(`${where} contains a worker token's secret`);
  }
  const leak = /secret_(?!\*\*\*\*)/.exec(text);
  if (leak) throw new Error(`${where} contains an unmasked "secret_": …${text.slice(Math.max(0, leak.index - 40), leak.index + 20)}…`);
}

/**
 * A file's shared world for orchestrate tests: started before the first test; every
 * orchestrate (and the processes it left) stopped after each test; the world after the last.
 */
export function useOrchestrateWorld(opts?: Parameters<typeof startWorld>[0]): World {
  return useSharedWorld(cleanupProcesses, opts);
}
