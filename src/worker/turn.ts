// Runs one claimed message: find or create the OpenCode session, send the prompt, relay the
// answer, and finish the message with exactly one final outcome.
import type { FinalOutcome, PendingMessage } from "../backend/api.ts";
import { classifyBackendError, backendErrorMessage } from "../backend/errors.ts";
import type { WorkerBackend } from "../backend/worker-client.ts";
import { sleep } from "../util/backoff.ts";
import { errorMessage, OrchestratorError } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import type { AgentHost } from "./agent-host.ts";
import { createRelay } from "./relay.ts";

/** Why a running turn was stopped from our side. */
export type StopReason = { kind: "cancel" } | { kind: "interrupt"; reason: string };

export type TurnOutcome = { outcome: FinalOutcome; reason?: string; batches: number; chars: number };

export type TurnDeps = {
  backend: WorkerBackend;
  instanceId: string;
  agents: AgentHost;
  /** chat session id → OpenCode session id, remembered across turns of this worker. */
  sessions: Map<string, string>;
  inactivityTimeoutMs: number;
  relayWindowMs: number;
  log: Logger;
  /** Called on every agent event (for the watchdog's "alive but deaf" check). */
  onActivity: () => void;
};

async function resolveAgentSession(deps: TurnDeps, msg: PendingMessage, agent: Awaited<ReturnType<AgentHost["acquire"]>>) {
  const known = deps.sessions.get(msg.sessionId) ?? msg.agentSessionId;
  if (known && (await agent.hasSession(known))) {
    deps.sessions.set(msg.sessionId, known);
    return known;
  }
  const id = await agent.createSession(msg.sessionTitle || `chat ${msg.sessionId}`);
  deps.sessions.set(msg.sessionId, id);
  try {
    await deps.backend.bindSession(msg.sessionId, id);
  } catch (e) {
    // Not fatal: the turn can run; only continuity after a restart is lost.
    deps.log.warn("could not bind the chat session to its OpenCode session", { error: backendErrorMessage(e) });
  }
  return id;
}

async function finishWithRetry(deps: TurnDeps, messageId: string, outcome: FinalOutcome, reason?: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.backend.finish(deps.instanceId, messageId, outcome, reason);
      return;
    } catch (e) {
      const kind = classifyBackendError(e);
      if ((kind !== "transient" && kind !== "timeout") || attempt >= 5) {
        // The backend's lease expiry finishes it as interrupted; nothing is left running forever.
        deps.log.error("could not record the end of a message", { messageId, outcome, error: backendErrorMessage(e) });
        return;
      }
      await sleep(500 * attempt);
    }
  }
}

/** How a turn stopped from our side ends: interrupted (shutdown, lease lost) or cancelled. */
function stoppedOutcome(stop: AbortSignal, lost: AbortSignal): { outcome: FinalOutcome; reason: string } {
  const why = stop.reason as StopReason | undefined;
  if (stop.aborted && why?.kind === "interrupt") return { outcome: "interrupted", reason: why.reason };
  if (lost.aborted) return { outcome: "interrupted", reason: "the worker lost this message (its lease expired)" };
  // Stored with the message, so a client can tell it from "cancelled before it started".
  return { outcome: "cancelled", reason: "cancelled on request while running" };
}

export async function runTurn(deps: TurnDeps, msg: PendingMessage, stop: AbortSignal): Promise<TurnOutcome> {
  const log = deps.log;
  const relay = createRelay({
    windowMs: deps.relayWindowMs,
    write: async (seq, text) => {
      await deps.backend.appendOutput(deps.instanceId, msg.messageId, seq, text);
    },
    onFatal: (e) => {
      log.warn("answer can no longer be written; aborting the turn", { messageId: msg.messageId, error: backendErrorMessage(e) });
      lost.abort();
    },
  });
  // Aborted when the relay can no longer write (lease lost): the agent turn is pointless then.
  const lost = new AbortController();
  const turnSignal = AbortSignal.any([stop, lost.signal]);

  let outcome: FinalOutcome;
  let reason: string | undefined;
  let acquired = false;
  try {
    const agent = await deps.agents.acquire();
    acquired = true;
    const agentSessionId = await resolveAgentSession(deps, msg, agent);
    log.info("turn started", { messageId: msg.messageId, session: msg.sessionId });
    const result = await agent.runTurn({
      sessionId: agentSessionId,
      prompt: msg.prompt,
      signal: turnSignal,
      inactivityTimeoutMs: deps.inactivityTimeoutMs,
      onText: (d) => {
        deps.onActivity();
        relay.push(d);
      },
      onActivity: deps.onActivity,
    });
    if (result.outcome === "completed") outcome = "completed";
    else if (result.outcome === "failed") {
      outcome = "failed";
      reason = result.reason;
    } else ({ outcome, reason } = stoppedOutcome(stop, lost.signal));
  } catch (e) {
    if (stop.aborted || lost.signal.aborted) ({ outcome, reason } = stoppedOutcome(stop, lost.signal));
    else {
      outcome = "failed";
      // The hint says what to do (e.g. how to install OpenCode): the person reading the
      // failed answer and whoever runs the worker both need it.
      reason = e instanceof OrchestratorError && e.hint ? `${e.message}. ${e.hint}` : errorMessage(e);
      if (!acquired) log.warn("OpenCode could not be started for this prompt", { messageId: msg.messageId, error: reason });
    }
  } finally {
    if (acquired) deps.agents.release();
  }
  await relay.flush();
  if (relay.failed === undefined) await finishWithRetry(deps, msg.messageId, outcome, reason);
  log.info(`turn ${outcome}`, { messageId: msg.messageId, reason, batches: relay.batches, chars: relay.chars });
  return { outcome, reason, batches: relay.batches, chars: relay.chars };
}
