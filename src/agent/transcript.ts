// A turn's view of its OpenCode session: which user message is this prompt's (admission),
// which messages are the assistant's, the error OpenCode reported, and the answer text relayed
// from live events or from a snapshot taken after the event stream reconnected.
import type { Message, Part } from "@opencode-ai/sdk/v2/client";
import type { Logger } from "../util/log.ts";
import type { AgentEvent } from "./events.ts";
import { messageUsage, todoUpdate, type AgentPart } from "./parts.ts";
import { applySnapshot } from "./transcript-snapshot.ts";
import { admit, emitPart, emitReasoning, noteType, onOtherPart, transcriptState, type TranscriptState } from "./transcript-state.ts";

/** One message of a session snapshot, as `session.messages` lists it. */
export type SnapshotMessage = { info: Message; parts: Part[] };

export type Transcript = {
  /** The prompt is being sent now: user messages created from here on may be its. */
  markSent(): void;
  readonly admitted: boolean;
  readonly agentError: unknown;
  /** Applies a live event; "idle" when the session went idle (the caller decides what it means). */
  apply(ev: AgentEvent): "idle" | undefined;
  /**
   * Applies a snapshot of the session; returns whether the run is over (idle, last assistant
   * message closed), or null when the prompt is not admitted yet.
   */
  applySnapshot(list: SnapshotMessage[], sessionIdle: boolean): boolean | null;
};

export type TranscriptOptions = {
  log: Logger;
  /** New answer text of a text part. */
  emit: (text: string, partId: string) => void;
  /** A change to any other part (reasoning text, tool call, file, todo list, usage). */
  emitPart: (u: AgentPart) => void;
  onAdmit: () => void;
  /** The worker's folder as OpenCode may name it: changed files are shown relative to it. */
  folders: readonly string[];
  describeError: (e: unknown) => string;
};

export function createTranscript(o: TranscriptOptions): Transcript {
  const s = transcriptState(o);
  return {
    markSent: () => void (s.sentAt = Date.now()),
    get admitted() {
      return s.userMessageId !== null;
    },
    get agentError() {
      return s.agentError;
    },
    apply: (ev) => applyEvent(s, ev),
    applySnapshot: (list, sessionIdle) => applySnapshot(s, list, sessionIdle),
  };
}

function applyEvent(s: TranscriptState, ev: AgentEvent): "idle" | undefined {
  switch (ev.type) {
    case "message.updated":
      return void onMessage(s, ev.properties.info as Message);
    case "message.part.updated":
      return void onPart(s, ev.properties.part as Part);
    case "message.part.delta": {
      const p = ev.properties;
      if (!s.userMessageId || p.field !== "text" || s.userIds.has(p.messageID)) return;
      const answer = s.text.delta(p.partID, p.delta);
      if (answer) s.o.emit(answer, p.partID);
      const thought = s.reasoning.delta(p.partID, p.delta);
      if (thought) emitReasoning(s, p.partID, thought);
      return;
    }
    case "todo.updated":
      if (s.userMessageId) emitPart(s, todoUpdate(ev.properties.todos));
      return;
    case "session.error":
      if (ev.properties.error) s.agentError = ev.properties.error;
      return void s.o.log.debug("OpenCode reported an error", { error: s.o.describeError(ev.properties.error) });
    case "session.status": {
      const st = ev.properties.status;
      if (st.type === "retry") s.o.log.warn("OpenCode is retrying the model request", { attempt: st.attempt, message: st.message });
      return;
    }
    case "session.idle":
      return "idle";
    default:
      return;
  }
}

function onMessage(s: TranscriptState, info: Message): void {
  if (info.role === "user") {
    s.userIds.add(info.id);
    // Same clock on both sides: a message created before we sent this prompt is an older one.
    if (!s.userMessageId && info.time.created >= s.sentAt) admit(s, info.id);
  } else {
    s.assistantIds.add(info.id);
    if (s.userMessageId && info.error) s.agentError = info.error;
    if (s.userMessageId && info.time.completed) emitPart(s, messageUsage(info));
  }
}

function onPart(s: TranscriptState, part: Part): void {
  noteType(s, part);
  if (part.type !== "text") return onOtherPart(s, part);
  if (!part.time?.end) return;
  s.text.recordFinal(part.id, part.text);
  if (!s.userMessageId || s.text.isClosed(part.id) || part.ignored) return;
  if (s.text.isResyncing(part.id) || (s.assistantIds.has(part.messageID) && !s.userIds.has(part.messageID))) {
    const missing = s.text.close(part.id, part.text);
    if (missing) s.o.emit(missing, part.id);
    if (missing) s.o.log.debug("relayed text missing from the deltas", { chars: missing.length });
  }
}
