// One prompt → one answer on an OpenCode session, driven by the server's shared event stream.
// The completion rules come from what OpenCode actually emits (shared/reference/opencode.md §4):
//  - a turn counts events only after OpenCode admitted *this* prompt's user message; an abort
//    emits `session.idle` twice, and the stray second one must not end the next turn;
//  - text deltas are relayed for any message that is not a user message (the assistant's own
//    `message.updated` may come only at the end);
//  - the first `session.idle` after admission ends the turn.
import type { OpencodeClient } from "@opencode-ai/sdk/v2/client";
import type { Logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";
import type { AgentEvent } from "./events.ts";
import type { AgentPart } from "./parts.ts";
import type { AgentAsk, AgentRequest } from "./requests.ts";
import { createTurnAsks } from "./turn-asks.ts";
import { createTranscript } from "./transcript.ts";

export type TurnResult = { outcome: "completed" } | { outcome: "failed"; reason: string } | { outcome: "cancelled" };

export type TurnRequest = {
  sessionId: string;
  prompt: string;
  /** `provider/model` for this prompt only; absent = the session's (OpenCode's default). */
  model?: string;
  /** Answer text as it streams, in order, each piece once, with the text part it belongs to. */
  onText: (delta: string, partId: string) => void;
  /** Changes to the turn's other parts (reasoning, tool calls, files, todos, usage), in order. */
  onPart?: (u: AgentPart) => void;
  /** Any sign of life of this session (to extend leases, show progress). */
  onActivity?: () => void;
  /**
   * A permission request or question of this turn (or a sub-agent's) for a person; answer it
   * with AgentServer.answer. Without it, every request is refused at once.
   */
  onAsk?: (ask: AgentAsk) => void;
  /** OpenCode settled a request of onAsk itself (an "always" given for another one covers it). */
  onAskEnded?: (agentRequestId: string) => void;
  /** Abort → OpenCode's turn is aborted and the result is `cancelled`. */
  signal: AbortSignal;
  /** No event for this session for this long → abort, `failed`. */
  inactivityTimeoutMs: number;
};

/** What the server keeps per running turn, to feed it events. */
export type TurnHandle = {
  onEvent(ev: AgentEvent): void;
  /** Activity elsewhere on the turn's behalf (a sub-agent session it started). */
  touch(): void;
  /** The event stream reconnected: events may have been missed. */
  recover(): void;
  /** The server process is gone (or being stopped). */
  serverGone(reason: string): void;
  /** OpenCode asks on this turn's behalf; false when nobody here can answer (then it is refused). */
  ask(ev: AgentRequest): boolean;
  /** A request of this turn was answered (`inAgent`: OpenCode says so): the wait for a person is over. */
  askEnded(agentRequestId: string, inAgent?: boolean): void;
};

export type TurnContext = {
  client: OpencodeClient;
  directory: string;
  log: Logger;
  /** Running turns by OpenCode session id. */
  turns: Map<string, TurnHandle>;
  /** Why the server cannot run turns any more, or null while it can. */
  goneReason(): string | null;
  /** The event stream is connected (wait before prompting, or early events are lost). */
  ready(): Promise<void>;
};

/** After an abort, how long to wait for OpenCode to settle the session before reporting. */
const ABORT_SETTLE_MS = 5_000;

/** OpenCode's error objects (`{name, data:{message, statusCode…}}`) as one line for people. */
export function describeAgentError(err: unknown): string {
  if (!err || typeof err !== "object") return String(err ?? "unknown error");
  const e = err as { name?: unknown; data?: { message?: unknown; statusCode?: unknown }; message?: unknown };
  const message =
    typeof e.data?.message === "string" && e.data.message
      ? e.data.message
      : typeof e.message === "string" && e.message
        ? e.message
        : typeof e.name === "string"
          ? e.name
          : "unknown error";
  const status = typeof e.data?.statusCode === "number" ? ` (HTTP ${e.data.statusCode})` : "";
  return `${message}${status}`;
}

type OurStop = { kind: "cancel" } | { kind: "inactive"; reason: string };

/** How a turn ended: our own stop first, then the error OpenCode reported, else completed. */
function turnResult(stopping: OurStop | null, agentError: unknown): TurnResult {
  if (stopping?.kind === "cancel") return { outcome: "cancelled" };
  if (stopping?.kind === "inactive") return { outcome: "failed", reason: stopping.reason };
  if (agentError) {
    const name = (agentError as { name?: unknown }).name;
    if (name === "MessageAbortedError") return { outcome: "failed", reason: "the turn was aborted inside OpenCode" };
    return { outcome: "failed", reason: describeAgentError(agentError) };
  }
  return { outcome: "completed" };
}

/** Sends one prompt to an OpenCode session and follows its events until the answer is over. */
export function runPrompt(ctx: TurnContext, t: TurnRequest): Promise<TurnResult> {
  const { sessionId } = t;
  if (ctx.turns.has(sessionId)) throw new Error(`a turn is already running in OpenCode session ${sessionId}`);
  const gone = ctx.goneReason();
  if (gone) return Promise.resolve({ outcome: "failed", reason: gone });
  if (t.signal.aborted) return Promise.resolve({ outcome: "cancelled" });
  const log = ctx.log.child(sessionId);

  return new Promise<TurnResult>((resolve) => {
    let done = false;
    let recovering = 0;
    let idleSeen = false;
    let held: AgentEvent[] = [];
    let stopping: OurStop | null = null;
    let inactivity: ReturnType<typeof setTimeout> | undefined;
    let settle: ReturnType<typeof setTimeout> | undefined;
    const asks = createTurnAsks({
      log,
      onAsk: t.onAsk,
      onAskEnded: t.onAskEnded,
      active: () => !done && !stopping,
      onWait: () => clearTimeout(inactivity),
      onResume: () => armInactivity(),
    });
    const transcript = createTranscript({
      log,
      emit,
      emitPart,
      describeError: describeAgentError,
      // An abort sent before OpenCode admitted the prompt may have missed the run it starts.
      onAdmit: () => {
        if (stopping) sendAbort();
      },
    });

    const handle: TurnHandle = { onEvent, touch, recover, serverGone, ask: asks.ask, askEnded: asks.ended };
    ctx.turns.set(sessionId, handle);
    t.signal.addEventListener("abort", onAbort, { once: true });
    armInactivity();

    function finish(r: TurnResult): void {
      if (done) return;
      done = true;
      clearTimeout(inactivity);
      clearTimeout(settle);
      t.signal.removeEventListener("abort", onAbort);
      if (ctx.turns.get(sessionId) === handle) ctx.turns.delete(sessionId);
      log.debug("turn finished", { outcome: r.outcome, reason: r.outcome === "failed" ? r.reason : undefined });
      resolve(r);
    }

    const result = () => turnResult(stopping, transcript.agentError);

    function armInactivity(): void {
      clearTimeout(inactivity);
      if (asks.waiting) return;
      inactivity = setTimeout(() => {
        const secs = Math.round(t.inactivityTimeoutMs / 100) / 10;
        const reason = transcript.agentError ? describeAgentError(transcript.agentError) : `no agent activity for ${secs} s`;
        log.warn("turn inactive; aborting it", { reason });
        stopTurn({ kind: "inactive", reason });
      }, t.inactivityTimeoutMs);
    }

    function onAbort(): void {
      log.debug("turn cancelled; aborting it in OpenCode");
      stopTurn({ kind: "cancel" });
    }

    function stopTurn(kind: OurStop): void {
      if (done || stopping) return;
      stopping = kind;
      clearTimeout(inactivity);
      sendAbort();
      // OpenCode answers an abort with `session.idle` within milliseconds; don't wait forever.
      settle = setTimeout(() => finish(result()), ABORT_SETTLE_MS);
    }

    function sendAbort(): void {
      ctx.client.session.abort({ sessionID: sessionId, directory: ctx.directory }, { throwOnError: true }).catch((err) => {
        log.debug("abort request failed", { error: errorMessage(err) });
      });
    }

    function emit(text: string, partId: string): void {
      if (!text) return;
      try {
        t.onText(text, partId);
      } catch (err) {
        log.error("onText callback failed", { error: errorMessage(err) });
      }
    }

    function emitPart(u: AgentPart): void {
      try {
        t.onPart?.(u);
      } catch (err) {
        log.error("onPart callback failed", { error: errorMessage(err) });
      }
    }

    function touch(): void {
      if (done || stopping) return;
      armInactivity();
      if (t.onActivity) {
        try {
          t.onActivity();
        } catch (err) {
          log.error("onActivity callback failed", { error: errorMessage(err) });
        }
      }
    }

    function onEvent(ev: AgentEvent): void {
      if (done) return;
      touch();
      if (recovering > 0) held.push(ev);
      else apply(ev);
    }

    function apply(ev: AgentEvent): void {
      if (done) return;
      // Before admission an idle is the stray one of an earlier, aborted run — unless we are
      // aborting ourselves, when any idle means the session settled.
      if (transcript.apply(ev) === "idle" && (transcript.admitted || stopping)) finish(result());
    }

    // After a reconnect some events were lost, so a part's relayed text may end mid-way. Events
    // arriving now are held until a snapshot of the session is applied: parts in the snapshot are
    // relayed from their full texts (and, if still streaming, finished from their final text, not
    // deltas); then the held events replay in order, newer parts relayed from their deltas.
    function recover(): void {
      if (done) return;
      recovering++;
      void (async () => {
        const [msgs, statuses] = await Promise.all([
          ctx.client.session.messages({ sessionID: sessionId, directory: ctx.directory }, { throwOnError: true }),
          ctx.client.session.status({ directory: ctx.directory }, { throwOnError: true }),
        ]);
        if (done) return;
        const st = (statuses.data as Record<string, { type: string } | undefined>)[sessionId];
        // Idle sessions are omitted from the map.
        if (transcript.applySnapshot(msgs.data, !st || st.type === "idle")) idleSeen = true;
      })()
        .catch((err) => log.debug("recovering the turn after a reconnect failed", { error: errorMessage(err) }))
        .finally(() => {
          if (--recovering > 0) return;
          const replay = held;
          held = [];
          for (const ev of replay) apply(ev);
          if (idleSeen && (transcript.admitted || stopping)) finish(result());
        });
    }

    function serverGone(reason: string): void {
      finish(stopping ? result() : { outcome: "failed", reason });
    }

    void sendPrompt(ctx, t, log, {
      settled: () => done,
      // Stopped before anything was sent: nothing to wait for.
      send: () => (stopping ? (finish(result()), false) : (transcript.markSent(), true)),
      failed: (err) => {
        const goneNow = ctx.goneReason();
        if (goneNow) serverGone(goneNow);
        else if (stopping) finish(result());
        else finish({ outcome: "failed", reason: `OpenCode did not accept the prompt: ${errorMessage(err)}` });
      },
    });
  });
}

/** Sends the prompt once the server is ready; `send` says whether to go on, `failed` ends the turn. */
async function sendPrompt(
  ctx: TurnContext,
  t: TurnRequest,
  log: Logger,
  turn: { settled(): boolean; send(): boolean; failed(err: unknown): void },
): Promise<void> {
  try {
    await ctx.ready();
    if (turn.settled() || !turn.send()) return;
    await ctx.client.session.promptAsync(
      { sessionID: t.sessionId, directory: ctx.directory, parts: [{ type: "text", text: t.prompt }], ...promptModel(t.model) },
      { throwOnError: true },
    );
    log.debug("prompt sent");
  } catch (err) {
    turn.failed(err);
  }
}

/** OpenCode's per-prompt model: provider, then the model id (which may contain slashes). */
function promptModel(model: string | undefined): { model?: { providerID: string; modelID: string } } {
  const slash = model ? model.indexOf("/") : -1;
  return slash > 0 ? { model: { providerID: model!.slice(0, slash), modelID: model!.slice(slash + 1) } } : {};
}
