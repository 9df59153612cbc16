// Answers one claimed message: find or create the OpenCode session, run the prompt, relay the
// answer, and finish the message with exactly one final outcome. The outcome reported back is
// what the backend holds: `completed` only when it has the whole answer and the final state.
import type { FinalOutcome, PendingMessage } from "../backend/api.ts";
import { classifyBackendError, backendErrorMessage } from "../backend/errors.ts";
import type { WorkerBackend } from "../backend/worker-client.ts";
import { sleep } from "../util/backoff.ts";
import { errorMessage, OrchestratorError } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import type { TurnRequest } from "../agent/index.ts";
import type { AgentHost } from "./agent-host.ts";
import { budgetGate, meteredStream, runWithinBudget, type BudgetGate } from "./budget-run.ts";
import type { TurnUsage } from "./budget-usage.ts";
import type { TurnBudget } from "./budget.ts";
import { createRelay } from "./relay.ts";
import { relayAsk, type RequestDesk } from "./requests.ts";

/** Why a running turn was stopped from our side. */
export type StopReason = { kind: "cancel" } | { kind: "interrupt"; reason: string };

export type AnswerOutcome = { outcome: FinalOutcome; reason?: string; batches: number; chars: number };

export type AnswerDeps = {
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
  /** Where OpenCode's permission requests and questions go to a person. */
  requests: RequestDesk;
  /**
   * Aborted when the worker gave up on its backend (it failed): writes still pending are
   * dropped at once instead of retried; the backend's lease expiry ends the message.
   */
  abandon: AbortSignal;
  /** Counts the turn's tokens and cost into the worker's totals. */
  usage: TurnUsage;
  /** The turn's spend limits (budget.ts). */
  budget: TurnBudget;
};

class Abandoned extends Error {
  constructor() {
    super("the worker gave up on the backend");
  }
}

/** `p`, or a rejection as soon as `signal` aborts: a call to an unreachable backend is not awaited. */
function unlessAbandoned<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // The call was already made: its own failure (e.g. WORKER_REVOKED) must not surface as an unhandled rejection.
    p.catch(() => undefined);
    return Promise.reject(new Abandoned());
  }
  return new Promise<T>((res, rej) => {
    const onAbort = () => rej(new Abandoned());
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(res, rej).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

async function resolveAgentSession(deps: AnswerDeps, msg: PendingMessage, agent: Awaited<ReturnType<AgentHost["acquire"]>>) {
  const known = deps.sessions.get(msg.sessionId) ?? msg.agentSessionId;
  if (known && (await agent.hasSession(known))) {
    deps.sessions.set(msg.sessionId, known);
    return known;
  }
  const id = await agent.createSession(msg.sessionTitle || `chat ${msg.sessionId}`);
  deps.sessions.set(msg.sessionId, id);
  try {
    await unlessAbandoned(deps.backend.bindSession(msg.sessionId, id), deps.abandon);
  } catch (e) {
    // Not fatal: the turn can run; only continuity after a restart is lost.
    deps.log.warn("could not bind the chat session to its OpenCode session", { error: backendErrorMessage(e) });
  }
  return id;
}

/** Records the end of the message; returns the error when the backend never got it. */
async function finishWithRetry(deps: AnswerDeps, messageId: string, outcome: FinalOutcome, reason?: string): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      await unlessAbandoned(deps.backend.finish(deps.instanceId, messageId, outcome, reason), deps.abandon);
      return undefined;
    } catch (e) {
      const kind = classifyBackendError(e);
      if (e instanceof Abandoned || (kind !== "transient" && kind !== "timeout") || attempt >= 5) return e;
      if (!(await sleep(500 * attempt, deps.abandon))) return new Abandoned();
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

/** Runs the prompt on the agent; the outcome as the agent (or our own stop) decided it. */
async function runOnAgent(
  deps: AnswerDeps,
  msg: PendingMessage,
  signals: { stop: AbortSignal; lost: AbortSignal },
  stream: Pick<TurnRequest, "onText" | "onPart">,
  gate: BudgetGate,
): Promise<{ outcome: FinalOutcome; reason?: string }> {
  let acquired = false;
  try {
    const agent = await deps.agents.acquire();
    acquired = true;
    const agentSessionId = await resolveAgentSession(deps, msg, agent);
    deps.log.info("turn started", { messageId: msg.messageId, session: msg.sessionId, ...(msg.model ? { model: msg.model } : {}) });
    const result = await runWithinBudget({
      budget: deps.budget,
      gate,
      prompt: msg.prompt,
      stop: AbortSignal.any([signals.stop, signals.lost]),
      run: (prompt, signal) =>
        agent.runPrompt({
          sessionId: agentSessionId,
          prompt,
          ...(msg.model ? { model: msg.model } : {}),
          signal,
          inactivityTimeoutMs: deps.inactivityTimeoutMs,
          ...stream,
          onActivity: deps.onActivity,
          onAsk: (ask) => void relayAsk(deps.requests, msg.messageId, agent, ask),
          onAskEnded: (id) => void deps.requests.endedInAgent(msg.messageId, id),
        }),
    });
    if (result.outcome === "completed") return { outcome: "completed" };
    if (result.outcome === "failed") return { outcome: "failed", reason: result.reason };
    return stoppedOutcome(signals.stop, signals.lost);
  } catch (e) {
    if (signals.stop.aborted || signals.lost.aborted) return stoppedOutcome(signals.stop, signals.lost);
    // The hint says what to do (e.g. how to install OpenCode): the person reading the
    // failed answer and whoever runs the worker both need it.
    const reason = e instanceof OrchestratorError && e.hint ? `${e.message}. ${e.hint}` : errorMessage(e);
    if (!acquired) deps.log.warn("OpenCode could not be started for this prompt", { messageId: msg.messageId, error: reason });
    return { outcome: "failed", reason };
  } finally {
    if (acquired) deps.agents.release();
  }
}

export async function answerMessage(deps: AnswerDeps, msg: PendingMessage, stop: AbortSignal): Promise<AnswerOutcome> {
  const log = deps.log;
  // Aborted when the relay can no longer write (lease lost): the agent turn is pointless then.
  const lost = new AbortController();
  const relay = createRelay({
    windowMs: deps.relayWindowMs,
    signal: deps.abandon,
    write: async (seq, text, parts) => {
      await unlessAbandoned(deps.backend.appendOutput(deps.instanceId, msg.messageId, seq, text, parts), deps.abandon);
    },
    onFatal: (e) => {
      log.warn("answer can no longer be written; aborting the turn", { messageId: msg.messageId, error: backendErrorMessage(e) });
      lost.abort();
    },
  });
  const gate = budgetGate(deps.budget);
  const stream = meteredStream(gate, deps.usage, {
    onText: (d, partId) => {
      deps.onActivity();
      relay.push(d, partId);
    },
    onPart: (p) => relay.pushPart(p),
  });
  let { outcome, reason } = await runOnAgent(deps, msg, { stop, lost: lost.signal }, stream, gate);
  // Whatever is still open reaches nobody now; said before the message ends, so it shows.
  await deps.requests.closeMessage(msg.messageId, outcome === "completed" ? "the answer ended before anyone answered" : `the answer ended (${outcome}${reason ? `: ${reason}` : ""})`);
  await relay.flush();
  const unsaved = relay.failed !== undefined ? relay.failed : await finishWithRetry(deps, msg.messageId, outcome, reason);
  if (unsaved !== undefined) {
    // The backend does not hold this answer's end; its lease expiry finishes the message as
    // interrupted, so that is what this turn counts as.
    log.error("could not save the answer; the backend will mark it interrupted", { messageId: msg.messageId, outcome, error: backendErrorMessage(unsaved) });
    reason = `the answer could not be saved (${backendErrorMessage(unsaved)}); the agent's outcome was ${outcome}`;
    outcome = "interrupted";
  }
  log.info(`turn ${outcome}`, { messageId: msg.messageId, reason, batches: relay.batches, chars: relay.chars });
  return { outcome, reason, batches: relay.batches, chars: relay.chars };
}
