// The worker's models without a running server: `opencode models --verbose` in the worker's
// folder, with the same scrubbed environment and sandbox as `opencode serve` (spawn.ts), so it
// sees exactly the providers and config the server will. About 3 s of CPU per run, against
// ~2 s plus ~0.5 GB for a server kept around just to ask it; workers that would get the same
// answer share one run (models-share.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { getPriority, setPriority } from "node:os";
import { randomBytes } from "node:crypto";
import type { ModelInfo } from "../backend/api.ts";
import { trackChild } from "../util/children.ts";
import { RuntimeFailure } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { terminateGroup } from "../util/process-group.ts";
import { agentEnv } from "./env.ts";
import { sandboxSpawn, type SandboxRequest } from "./sandbox/index.ts";
import { spawnFailure } from "./spawn.ts";

/**
 * How long the listing may take before it is stopped (it loads OpenCode's whole config, ~3 s);
 * a server start waits for the one running (worker/agent-queue.ts), so it must not hold it for long.
 */
export const MODELS_LIST_TIMEOUT_MS = 30_000;
/** How long a stopped listing gets after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;
/** Output kept at most; far above a verbose list of every bundled provider's models. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export type ListModelsOptions = {
  directory: string;
  /** The opencode executable; null → `opencode` from PATH. */
  opencodePath: string | null;
  log: Logger;
  sandbox?: SandboxRequest;
  /** Base environment, before our secrets are removed (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Stops the listing (the worker is stopping). */
  signal?: AbortSignal;
  timeoutMs?: number;
};

export type ListModels = (o: ListModelsOptions) => Promise<ModelInfo[]>;

/**
 * `opencode models --verbose` prints, per model, a `provider/model` line and then the model as
 * pretty-printed JSON (its `name`, `cost`, …) closed by a `}` alone on a line. A line that is
 * not followed by JSON still counts, named by its id.
 */
export function parseModelList(out: string): ModelInfo[] {
  const models: ModelInfo[] = [];
  const lines = out.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i]!.trim();
    const slash = head.indexOf("/");
    if (head === "" || head.startsWith("{") || slash <= 0 || /\s/.test(head)) continue;
    const providerId = head.slice(0, slash);
    const modelId = head.slice(slash + 1);
    let name = modelId;
    if (lines[i + 1]?.startsWith("{")) {
      const end = lines.indexOf("}", i + 1);
      if (end < 0) break;
      try {
        const m = JSON.parse(lines.slice(i + 1, end + 1).join("\n")) as { name?: unknown };
        if (typeof m.name === "string" && m.name.trim() !== "") name = m.name;
      } catch {
        // The id alone still names the model.
      }
      i = end;
    }
    models.push({ providerId, modelId, name });
  }
  return models;
}

/**
 * How much less CPU a listing gets than the workers (nice value): it only fills a menu, and with
 * many workers starting it runs while they go online and while prompts run.
 */
const LISTING_NICENESS = 10;

/**
 * Lowers the listing's priority right after the spawn, before bwrap forks what it sandboxes
 * (children inherit it). Best effort: a process already gone has nothing to lower.
 */
function yieldCpu(pid: number): void {
  try {
    setPriority(pid, Math.min(19, getPriority(pid) + LISTING_NICENESS));
  } catch {
    // Exited already, or a platform without priorities: the listing just runs at ours.
  }
}

/** Runs the listing; rejects with a RuntimeFailure saying why (exit, timeout, too much output). */
export const listAgentModels: ListModels = async (o) => {
  if (o.signal?.aborted) throw new RuntimeFailure("listing OpenCode's models was stopped: the worker is stopping");
  const command = o.opencodePath ?? "opencode";
  const env = agentEnv(o.env ?? process.env, { marker: randomBytes(12).toString("hex"), password: randomBytes(24).toString("base64url") });
  const boxed = sandboxSpawn({ command, args: ["models", "--verbose"], env }, o.directory, o.sandbox);
  const child = spawn(boxed.spec.command, boxed.spec.args, { cwd: o.directory, env: boxed.spec.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const untrack = child.pid ? trackChild(child.pid, { group: true, label: `opencode models (${o.directory})` }) : () => {};
  if (child.pid) yieldCpu(child.pid);
  const run = watchListing(child);
  const timeoutMs = o.timeoutMs ?? MODELS_LIST_TIMEOUT_MS;
  const timer = setTimeout(() => run.stop(`it took longer than ${Math.round(timeoutMs / 100) / 10} s`), timeoutMs);
  const onAbort = () => run.stop("the worker is stopping");
  o.signal?.addEventListener("abort", onAbort, { once: true });
  if (o.signal?.aborted) onAbort();
  try {
    const code = await run.closed.catch((err) => {
      throw spawnFailure(err, o.opencodePath);
    });
    if (run.why()) throw new RuntimeFailure(`listing OpenCode's models was stopped: ${run.why()}`);
    if (code !== 0) {
      const last = run.stderrTail().trim().split("\n").slice(-3).join(" | ");
      throw new RuntimeFailure(`\`${command} models\` exited with ${code}${last ? `: ${last}` : ""}`);
    }
    return parseModelList(run.output());
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener("abort", onAbort);
    untrack();
  }
};

type ListingRun = {
  /** The exit code once the process exited and its output ended; after a stop, only once its whole group is gone. */
  closed: Promise<number | null>;
  /** Stops the run (idempotent); `reason` is what the listing's error will say. */
  stop(reason: string): void;
  why(): string | null;
  output(): string;
  stderrTail(): string;
};

/** Collects the listing's output (bounded) and stops its whole process group on demand. */
function watchListing(child: ChildProcess): ListingRun {
  const chunks: Buffer[] = [];
  let size = 0;
  let stderrTail = "";
  let why: string | null = null;
  let exited = false;
  let stopped: Promise<unknown> = Promise.resolve();
  child.once("exit", () => void (exited = true));
  const stop = (reason: string) => {
    if (why !== null) return;
    why = reason;
    if (!child.pid) return;
    // The group, not just bwrap, and even once bwrap is gone: its namespace init ignores SIGTERM,
    // and when bwrap died while setting it up nothing else ever ends it (it holds our pipes, so
    // the run would not end either). terminateGroup waits for the whole group.
    stopped = terminateGroup(child.pid, { gone: () => exited, timeoutMs: STOP_TIMEOUT_MS }).then(() => {
      // A process that left the group may still hold our pipes; the run is over all the same.
      child.stdout?.destroy();
      child.stderr?.destroy();
    });
  };
  child.stdout!.on("data", (c: Buffer) => {
    size += c.length;
    if (size > MAX_OUTPUT_BYTES) return stop(`it printed more than ${MAX_OUTPUT_BYTES / 1024 / 1024} MB`);
    chunks.push(c);
  });
  child.stderr!.on("data", (c: Buffer) => void (stderrTail = (stderrTail + c.toString("utf8")).slice(-2_000)));
  const closed = new Promise<number | null>((res, rej) => {
    child.once("error", rej);
    child.once("close", (c) => res(c));
  }).then(async (code) => {
    await stopped;
    return code;
  });
  return { closed, stop, why: () => why, output: () => Buffer.concat(chunks).toString("utf8"), stderrTail: () => stderrTail };
}
