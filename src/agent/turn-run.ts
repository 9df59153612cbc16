// One running turn: its state as one record (was a closure) and the named steps that move it —
// events in, our own stop (cancel, inactivity), recovery after a reconnect, the end.
import { errorMessage } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import type { AgentEvent } from "./events.ts";
import { folderSpellings, type AgentPart } from "./parts.ts";
import { createTranscript, type Transcript } from "./transcript.ts";
import { createTurnAsks, type TurnAsks } from "./turn-asks.ts";
import { describeAgentError, turnResult, type OurStop, type TurnResult } from "./turn-result.ts";
import type { TurnContext, TurnHandle, TurnRequest } from "./turn.ts";

/** After an abort, how long to wait for OpenCode to settle the session before reporting. */
const ABORT_SETTLE_MS = 5_000;

export type Turn = {
  ctx: TurnContext;
  t: TurnRequest;
  log: Logger;
  resolve: (r: TurnResult) => void;
  done: boolean;
  stopping: OurStop | null;
  /** Snapshots being fetched after reconnects; events are held meanwhile. */
  recovering: number;
  held: AgentEvent[];
  /** A snapshot showed the run over. */
  idleSeen: boolean;
  inactivity?: ReturnType<typeof setTimeout>;
  settle?: ReturnType<typeof setTimeout>;
  asks: TurnAsks;
  transcript: Transcript;
  handle: TurnHandle;
  onAbort: () => void;
};

/** Registers the turn with the server and starts its inactivity timer. */
export function startTurn(ctx: TurnContext, t: TurnRequest, log: Logger, resolve: (r: TurnResult) => void): Turn {
  const turn: Turn = {
    ctx, t, log, resolve,
    done: false,
    stopping: null,
    recovering: 0,
    held: [],
    idleSeen: false,
    asks: createTurnAsks({
      log,
      onAsk: t.onAsk,
      onAskEnded: t.onAskEnded,
      active: () => !turn.done && !turn.stopping,
      onWait: () => clearTimeout(turn.inactivity),
      onResume: () => armInactivity(turn),
    }),
    transcript: createTranscript({
      log,
      emit: (text, partId) => emitText(turn, text, partId),
      emitPart: (u) => emitPart(turn, u),
      describeError: describeAgentError,
      folders: folderSpellings(ctx.directory),
      // An abort sent before OpenCode admitted the prompt may have missed the run it starts.
      onAdmit: () => {
        if (turn.stopping) sendAbort(turn);
      },
    }),
    handle: {
      onEvent: (ev) => onEvent(turn, ev),
      touch: () => touch(turn),
      recover: () => recover(turn),
      serverGone: (reason) => serverGone(turn, reason),
      ask: (ev) => turn.asks.ask(ev),
      askEnded: (id, inAgent) => turn.asks.ended(id, inAgent),
    },
    onAbort: () => {
      log.debug("turn cancelled; aborting it in OpenCode");
      stopTurn(turn, { kind: "cancel" });
    },
  };
  ctx.turns.set(t.sessionId, turn.handle);
  t.signal.addEventListener("abort", turn.onAbort, { once: true });
  armInactivity(turn);
  return turn;
}

export function finish(turn: Turn, r: TurnResult): void {
  if (turn.done) return;
  turn.done = true;
  clearTimeout(turn.inactivity);
  clearTimeout(turn.settle);
  turn.t.signal.removeEventListener("abort", turn.onAbort);
  if (turn.ctx.turns.get(turn.t.sessionId) === turn.handle) turn.ctx.turns.delete(turn.t.sessionId);
  turn.log.debug("turn finished", { outcome: r.outcome, reason: r.outcome === "failed" ? r.reason : undefined });
  turn.resolve(r);
}

export const result = (turn: Turn): TurnResult => turnResult(turn.stopping, turn.transcript.agentError);

function armInactivity(turn: Turn): void {
  clearTimeout(turn.inactivity);
  if (turn.asks.waiting) return;
  turn.inactivity = setTimeout(() => {
    const secs = Math.round(turn.t.inactivityTimeoutMs / 100) / 10;
    const err = turn.transcript.agentError;
    const reason = err ? describeAgentError(err) : `no agent activity for ${secs} s`;
    turn.log.warn("turn inactive; aborting it", { reason });
    stopTurn(turn, { kind: "inactive", reason });
  }, turn.t.inactivityTimeoutMs);
}

function stopTurn(turn: Turn, kind: OurStop): void {
  if (turn.done || turn.stopping) return;
  turn.stopping = kind;
  clearTimeout(turn.inactivity);
  sendAbort(turn);
  // OpenCode answers an abort with `session.idle` within milliseconds; don't wait forever.
  turn.settle = setTimeout(() => finish(turn, result(turn)), ABORT_SETTLE_MS);
}

function sendAbort(turn: Turn): void {
  const { ctx } = turn;
  ctx.client.session.abort({ sessionID: turn.t.sessionId, directory: ctx.directory }, { throwOnError: true }).catch((err) => {
    turn.log.debug("abort request failed", { error: errorMessage(err) });
  });
}

/** Calls one of the caller's callbacks; its failure is logged, never the turn's. */
function callBack(turn: Turn, what: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    turn.log.error(`${what} callback failed`, { error: errorMessage(err) });
  }
}

function emitText(turn: Turn, text: string, partId: string): void {
  if (!text) return;
  callBack(turn, "onText", () => turn.t.onText(text, partId));
}

function emitPart(turn: Turn, u: AgentPart): void {
  callBack(turn, "onPart", () => turn.t.onPart?.(u));
}

function touch(turn: Turn): void {
  if (turn.done || turn.stopping) return;
  armInactivity(turn);
  if (turn.t.onActivity) callBack(turn, "onActivity", () => turn.t.onActivity!());
}

function onEvent(turn: Turn, ev: AgentEvent): void {
  if (turn.done) return;
  touch(turn);
  if (turn.recovering > 0) turn.held.push(ev);
  else apply(turn, ev);
}

function apply(turn: Turn, ev: AgentEvent): void {
  if (turn.done) return;
  // Before admission an idle is the stray one of an earlier, aborted run — unless we are
  // aborting ourselves, when any idle means the session settled.
  if (turn.transcript.apply(ev) === "idle" && (turn.transcript.admitted || turn.stopping)) finish(turn, result(turn));
}

// After a reconnect some events were lost, so a part's relayed text may end mid-way. Events
// arriving now are held until a snapshot of the session is applied: parts in the snapshot are
// relayed from their full texts (and, if still streaming, finished from their final text, not
// deltas); then the held events replay in order, newer parts relayed from their deltas.
function recover(turn: Turn): void {
  if (turn.done) return;
  turn.recovering++;
  void applySessionSnapshot(turn)
    .catch((err) => turn.log.debug("recovering the turn after a reconnect failed", { error: errorMessage(err) }))
    .finally(() => {
      if (--turn.recovering > 0) return;
      const replay = turn.held;
      turn.held = [];
      for (const ev of replay) apply(turn, ev);
      if (turn.idleSeen && (turn.transcript.admitted || turn.stopping)) finish(turn, result(turn));
    });
}

async function applySessionSnapshot(turn: Turn): Promise<void> {
  const { ctx } = turn;
  const sessionId = turn.t.sessionId;
  const [msgs, statuses] = await Promise.all([
    ctx.client.session.messages({ sessionID: sessionId, directory: ctx.directory }, { throwOnError: true }),
    ctx.client.session.status({ directory: ctx.directory }, { throwOnError: true }),
  ]);
  if (turn.done) return;
  const st = (statuses.data as Record<string, { type: string } | undefined>)[sessionId];
  // Idle sessions are omitted from the map.
  if (turn.transcript.applySnapshot(msgs.data, !st || st.type === "idle")) turn.idleSeen = true;
}

export function serverGone(turn: Turn, reason: string): void {
  finish(turn, turn.stopping ? result(turn) : { outcome: "failed", reason });
}
