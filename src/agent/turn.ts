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
import { describeAgentError, type TurnResult } from "./turn-result.ts";
import { finish, result, serverGone, startTurn } from "./turn-run.ts";

export type { TurnResult };
export { describeAgentError };

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

/** Sends one prompt to an OpenCode session and follows its events until the answer is over. */
export function runPrompt(ctx: TurnContext, t: TurnRequest): Promise<TurnResult> {
  const { sessionId } = t;
  if (ctx.turns.has(sessionId)) throw new Error(`a turn is already running in OpenCode session ${sessionId}`);
  const gone = ctx.goneReason();
  if (gone) return Promise.resolve({ outcome: "failed", reason: gone });
  if (t.signal.aborted) return Promise.resolve({ outcome: "cancelled" });
  const log = ctx.log.child(sessionId);

  return new Promise<TurnResult>((resolve) => {
    const turn = startTurn(ctx, t, log, resolve);
    void sendPrompt(ctx, t, log, {
      settled: () => turn.done,
      // Stopped before anything was sent: nothing to wait for.
      send: () => (turn.stopping ? (finish(turn, result(turn)), false) : (turn.transcript.markSent(), true)),
      failed: (err) => {
        const goneNow = ctx.goneReason();
        if (goneNow) serverGone(turn, goneNow);
        else if (turn.stopping) finish(turn, result(turn));
        else finish(turn, { outcome: "failed", reason: `OpenCode did not accept the prompt: ${errorMessage(err)}` });
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
