// One `opencode serve` for one worker's folder: spawn it in its own process group with a random
// password and a scrubbed environment (spawn.ts), wait until it serves (readiness.ts), keep one
// event stream open, hand its permission requests and questions to the turn they belong to (or
// refuse them when nobody can answer; requests.ts), and stop the
// whole tree — gently first, for sure at the end (server-process.ts).
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { createOpencodeClient } from "@opencode-ai/sdk/v2/client";
import type { ModelInfo } from "../backend/api.ts";
import { errorMessage, RuntimeFailure } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { forgetSecret, registerSecret } from "../util/redact.ts";
import type { EventStream, EventStreamOptions } from "./events.ts";
import { NotServing, waitUntilServing, type AgentExit } from "./readiness.ts";
import { answerAsk, isAgentRequest, isAgentRequestEnd, refuseRequest, type AgentAsk, type AgentReply, type AgentRequest } from "./requests.ts";
import { createEventRouter, type EventRouter } from "./routing.ts";
import type { SandboxRequest } from "./sandbox/index.ts";
import { goneReason, stopServer, trackServer, type ServerProcess } from "./server-process.ts";
import { spawnServer, type SpawnedServer } from "./spawn.ts";
import { runPrompt, type TurnContext, type TurnRequest, type TurnResult } from "./turn.ts";

export { INSTALL_HINT } from "./spawn.ts";
export type { AgentExit } from "./readiness.ts";
export type { TurnRequest, TurnResult };

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
  /** OpenCode permission rules laid over the user's own OpenCode config (env.ts). */
  permission?: Record<string, unknown>;
};

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
  runPrompt(t: TurnRequest): Promise<TurnResult>;
  /** Relays a person's answer to a request a turn raised (TurnRequest.onAsk); "unknown": OpenCode forgot it. */
  answer(ask: Pick<AgentAsk, "kind" | "agentRequestId" | "sessionId">, reply: AgentReply): Promise<"delivered" | "unknown">;
  /** Number of turns running now. */
  activeTurns(): number;
  /** Resolves when the process exits, whoever caused it. */
  exited: Promise<AgentExit>;
  /** Idempotent: SIGTERM the group, SIGTERM again, SIGKILL after `timeoutMs` (default 10 s). */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
};

const DEFAULT_STARTUP_MS = 30_000;
const FAILED_START_STOP_MS = 5_000;

function checkDirectory(directory: string): void {
  let isDir = false;
  try {
    isDir = statSync(directory).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new RuntimeFailure(`OpenCode cannot start: the folder ${directory} does not exist`);
}

export async function startAgent(opts: StartAgentOptions): Promise<AgentServer> {
  const log = opts.log;
  const directory = resolve(opts.directory);
  checkDirectory(directory);
  const command = opts.opencodePath ?? "opencode";
  const secrets = serverSecrets();
  const marker = randomBytes(12).toString("hex");
  const startedAt = Date.now();

  let spawned;
  try {
    spawned = await spawnServer({ command, opencodePath: opts.opencodePath, directory, env: opts.env ?? process.env, marker, password: secrets.password, log, sandbox: opts.sandbox, permission: opts.permission });
  } catch (e) {
    secrets.forget();
    throw e;
  }
  const proc = trackServer(spawned, { directory, command, log, marker, startedAt, forgetSecrets: secrets.forget });
  const { pid, turns } = proc;
  const route = createEventRouter(turns);
  const { url, stream } = await connect(proc, { opts, spawned, command, directory, authorization: secrets.authorization, route });
  log.info("OpenCode started", { pid, url, ms: Date.now() - startedAt });
  const c = createOpencodeClient({ baseUrl: url, directory, headers: { authorization: secrets.authorization } });
  proc.client = c;
  const ctx: TurnContext = { client: c, directory, log, turns, goneReason: () => goneReason(proc), ready: () => stream.ready };
  const answer = answerer(c, directory, route);
  const stop = (o?: { timeoutMs?: number }) => stopServer(proc, o);
  return { pid, url, directory, ...sessionApi(c, directory), runPrompt: (t) => runPrompt(ctx, t), answer, activeTurns: () => turns.size, exited: proc.exited, stop };
}

/** The server's random password, masked in our logs while it runs; `forget` once it stopped. */
function serverSecrets(): { password: string; authorization: string; forget(): void } {
  const password = randomBytes(24).toString("base64url");
  const basic = Buffer.from(`opencode:${password}`).toString("base64");
  registerSecret(password);
  registerSecret(basic);
  const forget = () => {
    forgetSecret(password);
    forgetSecret(basic);
  };
  return { password, authorization: `Basic ${basic}`, forget };
}

type ConnectOptions = {
  opts: StartAgentOptions;
  spawned: SpawnedServer;
  command: string;
  directory: string;
  authorization: string;
  route: EventRouter;
};

/** Waits until the server serves with its event stream connected; else stops it and says why. */
async function connect(proc: ServerProcess, c: ConnectOptions): Promise<{ url: string; stream: EventStream }> {
  const { opts, spawned, command, directory } = c;
  try {
    return await waitUntilServing({
      url: spawned.url,
      exited: proc.exited,
      exit: () => proc.exitInfo,
      timeoutMs: opts.startupTimeoutMs ?? DEFAULT_STARTUP_MS,
      authorization: c.authorization,
      stream: streamOptions(proc, c),
      onStream: (s) => {
        proc.events = s;
      },
    });
  } catch (e) {
    await stopServer(proc, { timeoutMs: FAILED_START_STOP_MS });
    if (!(e instanceof NotServing)) throw e;
    const output = spawned.tail.length ? `\n${spawned.tail.slice(-8).join("\n")}` : "";
    const hint = `Run \`${command} serve\` in ${directory} to see what OpenCode says; reinstall it (\`npm i -g opencode-ai\`) if it is broken.`;
    throw new RuntimeFailure(`${e.message}${output}`, { hint, cause: e.cause });
  }
}

/** The event stream feeds each turn its events and requests; nobody to ask → refused at once. */
function streamOptions(proc: ServerProcess, c: ConnectOptions): Omit<EventStreamOptions, "url"> {
  const { directory, route } = c;
  const { log, turns } = proc;
  return {
    directory,
    authorization: c.authorization,
    log,
    staleAfterMs: c.opts.eventStaleAfterMs,
    alive: () => proc.exitInfo === null && !proc.stopping,
    onEvent: (ev) => {
      if (isAgentRequest(ev) && !route.ownerOf(ev.properties.sessionID)?.ask(ev) && proc.client) refuseRequest(proc.client, directory, log, ev);
      if (isAgentRequestEnd(ev)) route.ownerOf(ev.properties.sessionID)?.askEnded(ev.properties.requestID, true);
      route(ev);
    },
    onReconnected: () => {
      for (const t of [...turns.values()]) t.recover();
      if (proc.client && turns.size > 0) void askAgain(proc.client, directory, log, route);
    },
  };
}

/**
 * Requests OpenCode raised while the event stream was down reach their turns now (a turn takes
 * each one once; the worker raises it once per OpenCode id).
 */
async function askAgain(client: ReturnType<typeof createOpencodeClient>, directory: string, log: Logger, route: EventRouter): Promise<void> {
  try {
    const [permissions, questions] = await Promise.all([
      client.permission.list({ directory }, { throwOnError: true }),
      client.question.list({ directory }, { throwOnError: true }),
    ]);
    log.debug("OpenCode's open requests after a reconnect", { permissions: permissions.data?.length ?? 0, questions: questions.data?.length ?? 0 });
    for (const p of permissions.data ?? []) route.ownerOf(p.sessionID)?.ask({ id: `resync-${p.id}`, type: "permission.asked", properties: p } as AgentRequest);
    for (const q of questions.data ?? []) route.ownerOf(q.sessionID)?.ask({ id: `resync-${q.id}`, type: "question.asked", properties: q } as AgentRequest);
  } catch (err) {
    log.debug("listing OpenCode's open requests after a reconnect failed", { error: errorMessage(err) });
  }
}

/** Relays an answer; the turn stops waiting for a person even if OpenCode's own event is missed. */
function answerer(client: ReturnType<typeof createOpencodeClient>, directory: string, route: EventRouter): AgentServer["answer"] {
  return async (ask, reply) => {
    const r = await answerAsk(client, directory, ask, reply);
    route.ownerOf(ask.sessionId)?.askEnded(ask.agentRequestId);
    return r;
  };
}

/** The server's model and session calls, each failure a RuntimeFailure saying what failed. */
function sessionApi(client: ReturnType<typeof createOpencodeClient>, directory: string): Pick<AgentServer, "listModels" | "createSession" | "hasSession"> {
  return {
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
  };
}
