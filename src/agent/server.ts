// One `opencode serve` for one worker's folder: spawn it in its own process group with a random
// password and a scrubbed environment, wait until it serves, keep one event stream open, and
// stop the whole tree — gently first, for sure at the end. Every process of that tree carries a
// marker variable, which also finds the ones that left the process group.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { createOpencodeClient } from "@opencode-ai/sdk/v2/client";
import type { ModelInfo } from "../backend/api.ts";
import { trackChild } from "../util/children.ts";
import { errorMessage, RuntimeFailure } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { groupExists, processesWithEnv, signalGroup, terminateGroup, terminatePids } from "../util/process-group.ts";
import { registerSecret } from "../util/redact.ts";
import { AGENT_MARKER_VAR, agentEnv } from "./env.ts";
import { openEventStream, type AgentEvent } from "./events.ts";
import { removeAgentRecord, writeAgentRecord } from "./leftovers.ts";
import { sandboxSpawn, type SandboxRequest } from "./sandbox/index.ts";
import { runTurn, type TurnContext, type TurnHandle, type TurnRequest, type TurnResult } from "./turn.ts";

export type StartAgentOptions = {
  /** The project folder OpenCode works in. */
  directory: string;
  /** The opencode executable; null → `opencode` from PATH. */
  opencodePath: string | null;
  log: Logger;
  /** From spawn to "serving and event stream connected" (default 30 s). */
  startupTimeoutMs?: number;
  /** Base environment, before our secrets are removed (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Reconnect the event stream after this much silence (default 30 s; OpenCode's heartbeat is ~10 s). */
  eventStaleAfterMs?: number;
  /** What the agent must not see (src/agent/sandbox); absent = no sandbox. */
  sandbox?: SandboxRequest;
};

export type AgentExit = { code: number | null; signal: string | null };

export type AgentServer = {
  pid: number;
  /** Base URL of the server (basic auth required; the password never leaves this module). */
  url: string;
  directory: string;
  /** Models OpenCode offers in this folder (its providers → models). */
  listModels(): Promise<ModelInfo[]>;
  /** Creates an OpenCode session; returns its id. */
  createSession(title: string): Promise<string>;
  /** The session exists (continue a bound session after a restart). */
  hasSession(id: string): Promise<boolean>;
  /** Runs one prompt; never rejects for agent-side problems, which become `failed`. */
  runTurn(t: TurnRequest): Promise<TurnResult>;
  /** Number of turns running now. */
  activeTurns(): number;
  /** Resolves when the process exits, whoever caused it. */
  exited: Promise<AgentExit>;
  /** Idempotent: SIGTERM the group, SIGTERM again, SIGKILL after `timeoutMs` (default 10 s). */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
};

export type { TurnRequest, TurnResult };

const LISTENING = /opencode server listening on (http:\/\/\S+)/;
export const INSTALL_HINT = "Install OpenCode with `npm i -g opencode-ai` (see https://opencode.ai), or point to the opencode executable with `opencode_path` in workers.json (OPENCODE_PATH for dev).";

const seconds = (ms: number) => Math.round(ms / 100) / 10;

function describeExit(e: AgentExit): string {
  return e.code !== null ? `exit code ${e.code}` : `signal ${e.signal}`;
}

export async function startAgent(opts: StartAgentOptions): Promise<AgentServer> {
  const log = opts.log;
  const directory = resolve(opts.directory);
  const timeoutMs = opts.startupTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let isDir = false;
  try {
    isDir = statSync(directory).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new RuntimeFailure(`OpenCode cannot start: the folder ${directory} does not exist`);

  const command = opts.opencodePath ?? "opencode";
  const password = randomBytes(24).toString("base64url");
  const basic = Buffer.from(`opencode:${password}`).toString("base64");
  registerSecret(password);
  registerSecret(basic);
  const authorization = `Basic ${basic}`;
  const marker = randomBytes(12).toString("hex");
  const startedAt = Date.now();

  // Sandbox: the same command, wrapped in bwrap / sandbox-exec (throws SandboxUnavailable for "on" without one).
  const boxed = sandboxSpawn(
    { command, args: ["serve", "--hostname", "127.0.0.1", "--port", "0"], env: agentEnv(opts.env ?? process.env, { marker, password }) },
    directory,
    opts.sandbox,
  );
  log.debug("OpenCode sandbox", { state: boxed.state, ...(boxed.warning ? { warning: boxed.warning } : {}) });
  const child: ChildProcess = spawn(boxed.spec.command, boxed.spec.args, {
    cwd: directory,
    env: boxed.spec.env,
    detached: true, // own process group: stop() reaches the tools it spawned too
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    await new Promise<void>((res, rej) => {
      child.once("spawn", res);
      child.once("error", rej);
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = opts.opencodePath ? `opencode_path ${opts.opencodePath}` : "`opencode` (looked up on PATH)";
    if (code === "ENOENT") throw new RuntimeFailure(`OpenCode was not found: ${what} does not exist`, { hint: INSTALL_HINT, cause: err });
    if (code === "EACCES") throw new RuntimeFailure(`OpenCode cannot be run: ${what} is not executable`, { hint: INSTALL_HINT, cause: err });
    throw new RuntimeFailure(`OpenCode could not be started: ${errorMessage(err)}`, { hint: INSTALL_HINT, cause: err });
  }
  const pid = child.pid!;
  const untrack = trackChild(pid, { group: true, label: `opencode serve (${directory})` });
  writeAgentRecord({ pid, marker, ownerPid: process.pid, directory, command, startedAt: new Date(startedAt).toISOString() });
  log.debug("OpenCode starting", { pid, directory, command });

  // Output: the URL from stdout; the rest is kept short for error messages and debug logs.
  const tail: string[] = [];
  let urlFound: (url: string) => void = () => {};
  const urlPromise = new Promise<string>((res) => (urlFound = res));
  const onLines = (stream: "stdout" | "stderr") => {
    let buf = "";
    return (chunk: Buffer) => {
      buf += chunk.toString("utf8");
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trimEnd();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const m = LISTENING.exec(line);
        if (m) urlFound(m[1]!);
        tail.push(line);
        if (tail.length > 20) tail.shift();
        log.debug(`opencode ${stream}: ${line}`);
      }
    };
  };
  child.stdout!.on("data", onLines("stdout"));
  child.stderr!.on("data", onLines("stderr"));

  let exitInfo: AgentExit | null = null;
  let stopping = false;
  const turns = new Map<string, TurnHandle>();
  let events: ReturnType<typeof openEventStream> | null = null;
  const exited = new Promise<AgentExit>((res) => {
    child.once("exit", (code, signal) => {
      exitInfo = { code, signal };
      events?.close();
      untrack();
      removeAgentRecord(pid);
      if (!stopping) {
        log.warn("OpenCode exited unexpectedly", { pid, how: describeExit(exitInfo) });
        // Tools it started (shells, language servers) would outlive it otherwise.
        if (groupExists(pid)) signalGroup(pid, "SIGKILL");
        for (const p of processesWithEnv(AGENT_MARKER_VAR, marker)) {
          try {
            process.kill(p, "SIGKILL");
          } catch {
            // gone
          }
        }
      }
      const reason = goneReason()!;
      for (const t of [...turns.values()]) t.serverGone(reason);
      res(exitInfo);
    });
  });

  function goneReason(): string | null {
    if (exitInfo) return stopping ? "OpenCode was stopped" : `OpenCode exited unexpectedly (${describeExit(exitInfo)})`;
    if (stopping) return "OpenCode is stopping";
    return null;
  }

  let stopPromise: Promise<void> | null = null;
  function stop(o: { timeoutMs?: number } = {}): Promise<void> {
    stopPromise ??= (async () => {
      const t0 = Date.now();
      stopping = true;
      events?.close();
      const last = await terminateGroup(pid, { gone: () => exitInfo !== null, timeoutMs: o.timeoutMs ?? 10_000 });
      await exited;
      // Shell tools run in sessions of their own, out of the group's reach; our marker finds them.
      const strays = processesWithEnv(AGENT_MARKER_VAR, marker);
      if (strays.length) {
        log.debug("stopping processes OpenCode's tools left running", { pids: strays.join(",") });
        await terminatePids(strays);
      }
      untrack();
      removeAgentRecord(pid);
      log.debug("OpenCode stopped", { pid, ms: Date.now() - t0, signal: last });
    })();
    return stopPromise;
  }

  const tryItHint = `Run \`${command} serve\` in ${directory} to see what OpenCode says; reinstall it (\`npm i -g opencode-ai\`) if it is broken.`;
  async function failStart(message: string, cause?: unknown): Promise<never> {
    await stop({ timeoutMs: 5_000 });
    const output = tail.length ? `\n${tail.slice(-8).join("\n")}` : "";
    throw new RuntimeFailure(`${message}${output}`, { hint: tryItHint, cause });
  }

  // 1. the "listening" line, 2. health, 3. the event stream — all within one deadline.
  const remaining = () => Math.max(0, deadline - Date.now());
  const timeout = (ms: number) => new Promise<"timeout">((res) => setTimeout(() => res("timeout"), ms).unref?.());
  const first = await Promise.race([urlPromise, exited, timeout(remaining())]);
  if (first === "timeout") return failStart(`OpenCode did not start within ${seconds(timeoutMs)} s`);
  if (typeof first !== "string") return failStart(`OpenCode exited before it was ready (${describeExit(first)})`);
  const url = first.replace(/\/$/, "");

  const client = createOpencodeClient({ baseUrl: url, directory, headers: { authorization } });
  let healthy = false;
  let lastError: unknown = null;
  while (!healthy && remaining() > 0 && !exitInfo) {
    try {
      const res = await fetch(`${url}/global/health`, { headers: { authorization }, signal: AbortSignal.timeout(Math.max(1, Math.min(5_000, remaining()))) });
      healthy = res.ok;
      if (!healthy) lastError = new Error(`HTTP ${res.status}`);
    } catch (err) {
      lastError = err;
    }
    if (!healthy) await new Promise((r) => setTimeout(r, 100));
  }
  if (exitInfo) return failStart(`OpenCode exited before it was ready (${describeExit(exitInfo)})`);
  if (!healthy) return failStart(`OpenCode did not become healthy within ${seconds(timeoutMs)} s: ${errorMessage(lastError)}`, lastError);

  const stream = openEventStream({
    url,
    directory,
    authorization,
    log,
    staleAfterMs: opts.eventStaleAfterMs,
    alive: () => exitInfo === null && !stopping,
    onEvent: (ev) => route(ev),
    onReconnected: () => {
      for (const t of [...turns.values()]) t.recover();
    },
  });
  events = stream;
  const connected = await Promise.race([stream.ready.then(() => "ok" as const, (e: unknown) => e), exited, timeout(remaining())]);
  if (connected !== "ok") {
    if (connected === "timeout") return failStart(`OpenCode's event stream did not connect within ${seconds(timeoutMs)} s`);
    return failStart(`OpenCode's event stream failed: ${errorMessage(connected)}`);
  }
  log.info("OpenCode started", { pid, url, ms: Date.now() - startedAt });

  // Sub-agent sessions (the `task` tool) → their parent, so a turn waiting on one stays alive.
  const parentOf = new Map<string, string>();

  function route(ev: AgentEvent): void {
    if (ev.type === "session.created" || ev.type === "session.updated") {
      if (ev.properties.info.parentID) parentOf.set(ev.properties.info.id, ev.properties.info.parentID);
    }
    if (ev.type === "permission.asked" || ev.type === "question.asked") refuse(ev);
    const p = ev.properties as { sessionID?: unknown; info?: { sessionID?: unknown }; part?: { sessionID?: unknown } } | undefined;
    const sid = p?.sessionID ?? p?.info?.sessionID ?? p?.part?.sessionID;
    if (typeof sid !== "string") return;
    const own = turns.get(sid);
    if (own) return own.onEvent(ev);
    let up = parentOf.get(sid);
    for (let hops = 0; up && hops < 10; hops++, up = parentOf.get(up)) {
      const t = turns.get(up);
      if (t) return t.touch();
    }
  }

  // Nobody can answer OpenCode's permission prompts or questions from here (its server is
  // private to us), and an unanswered one stalls the turn until the inactivity timeout.
  function refuse(ev: Extract<AgentEvent, { type: "permission.asked" | "question.asked" }>): void {
    const id = ev.properties.id;
    const fail = (err: unknown) => log.debug("refusing OpenCode's request failed", { id, error: errorMessage(err) });
    if (ev.type === "permission.asked") {
      log.warn("OpenCode asked for a permission nobody can grant here; refused", {
        permission: ev.properties.permission,
        patterns: ev.properties.patterns.join(" "),
        hint: "allow it in the OpenCode config (`permission`) for unattended use",
      });
      client.permission
        .reply({ requestID: id, directory, reply: "reject", message: "Refused: this OpenCode runs unattended and nobody can approve permission requests." }, { throwOnError: true })
        .catch(fail);
    } else {
      log.warn("OpenCode asked a question nobody can answer here; refused");
      client.question.reject({ requestID: id, directory }, { throwOnError: true }).catch(fail);
    }
  }

  const ctx: TurnContext = { client, directory, log, turns, goneReason, ready: () => stream.ready };

  return {
    pid,
    url,
    directory,
    async listModels() {
      try {
        const r = await client.config.providers({ directory }, { throwOnError: true });
        return r.data.providers.flatMap((p) =>
          Object.entries(p.models).map(([key, m]) => ({ providerId: p.id, modelId: m.id ?? key, name: m.name ?? key })),
        );
      } catch (err) {
        throw new RuntimeFailure(`OpenCode could not list its models: ${errorMessage(err)}`, { cause: err });
      }
    },
    async createSession(title) {
      try {
        const r = await client.session.create({ directory, title }, { throwOnError: true });
        return r.data.id;
      } catch (err) {
        throw new RuntimeFailure(`OpenCode could not create a session: ${errorMessage(err)}`, { cause: err });
      }
    },
    async hasSession(id) {
      // OpenCode answers 500 (not 404) for ids that are not shaped like its own.
      if (!/^ses_[A-Za-z0-9]+$/.test(id)) return false;
      const r = await client.session.get({ sessionID: id, directory });
      if (r.response?.ok) return true;
      if (r.response && (r.response.status === 404 || r.response.status === 400)) return false;
      throw new RuntimeFailure(`OpenCode could not look up session ${id}: ${r.response ? `HTTP ${r.response.status}` : errorMessage(r.error)}`);
    },
    runTurn: (t) => runTurn(ctx, t),
    activeTurns: () => turns.size,
    exited,
    stop,
  };
}
