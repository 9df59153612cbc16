// A turn's view of its OpenCode session: which user message is this prompt's (admission),
// which messages are the assistant's, the error OpenCode reported, and the answer text relayed
// from live events or from a snapshot taken after the event stream reconnected.
import type { Message, Part } from "@opencode-ai/sdk/v2/client";
import type { Logger } from "../util/log.ts";
import type { AgentEvent } from "./events.ts";
import { messageUsage, stepUsage, todoUpdate, toolFileUpdates, toolUpdate, type AgentPart } from "./parts.ts";
import { createTurnText } from "./turn-text.ts";
import { REASONING_CHARS } from "../../convex/lib/constants.ts";

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
  describeError: (e: unknown) => string;
};

export function createTranscript(o: TranscriptOptions): Transcript {
  const { log, emit } = o;
  let sentAt = Number.POSITIVE_INFINITY;
  let userMessageId: string | null = null;
  let agentError: unknown = null;
  const userIds = new Set<string>();
  const assistantIds = new Set<string>();
  const text = createTurnText("text");
  const reasoning = createTurnText("reasoning");
  /** What went out last per part key: an update that changes nothing is not relayed again. */
  const sent = new Map<string, string>();

  /** How far each tool call got: an older state replayed after a snapshot must not undo a newer one. */
  const toolRank = new Map<string, number>();
  const RANK = { pending: 0, running: 1, completed: 2, error: 2 } as const;

  function emitPart(u: AgentPart): void {
    if (u.kind === "tool") {
      const rank = RANK[u.tool.status];
      if (rank < (toolRank.get(u.key) ?? -1)) return;
      toolRank.set(u.key, rank);
    }
    if (u.kind !== "reasoning") {
      const json = JSON.stringify(u);
      if (sent.get(u.key) === json) return;
      sent.set(u.key, json);
    } else if (u.append === "") return;
    o.emitPart(u);
  }
  // The backend keeps REASONING_CHARS of a part; one more tells it that some was cut.
  const emitReasoning = (partId: string, s: string) => emitPart({ key: partId, kind: "reasoning", append: s.slice(0, REASONING_CHARS + 1) });
  const ofAssistant = (messageId: string) => userMessageId !== null && !userIds.has(messageId);

  function admit(id: string): void {
    if (userMessageId) return;
    userMessageId = id;
    log.debug("prompt admitted", { messageId: id });
    o.onAdmit();
  }

  function onMessage(info: Message): void {
    if (info.role === "user") {
      userIds.add(info.id);
      // Same clock on both sides: a message created before we sent this prompt is an older one.
      if (!userMessageId && info.time.created >= sentAt) admit(info.id);
    } else {
      assistantIds.add(info.id);
      if (userMessageId && info.error) agentError = info.error;
      if (userMessageId && info.time.completed) emitPart(messageUsage(info));
    }
  }

  /** Parts other than the answer's text: relayed once the prompt is admitted, for assistant messages. */
  function onOtherPart(part: Part): void {
    if (!ofAssistant(part.messageID)) return;
    if (part.type === "tool") {
      emitPart(toolUpdate(part));
      for (const u of toolFileUpdates(part)) emitPart(u);
    }
    else if (part.type === "step-finish") emitPart(stepUsage(part));
    else if (part.type === "reasoning" && part.time?.end) {
      reasoning.recordFinal(part.id, part.text);
      if (!reasoning.isClosed(part.id)) emitReasoning(part.id, reasoning.close(part.id, part.text));
    }
  }

  function onPart(part: Part): void {
    text.noteType(part.id, part.type);
    reasoning.noteType(part.id, part.type);
    if (part.type !== "text") return onOtherPart(part);
    if (!part.time?.end) return;
    text.recordFinal(part.id, part.text);
    if (!userMessageId || text.isClosed(part.id) || part.ignored) return;
    if (text.isResyncing(part.id) || (assistantIds.has(part.messageID) && !userIds.has(part.messageID))) {
      const missing = text.close(part.id, part.text);
      if (missing) emit(missing, part.id);
      if (missing) log.debug("relayed text missing from the deltas", { chars: missing.length });
    }
  }

  return {
    markSent: () => void (sentAt = Date.now()),
    get admitted() {
      return userMessageId !== null;
    },
    get agentError() {
      return agentError;
    },
    apply(ev) {
      switch (ev.type) {
        case "message.updated":
          return void onMessage(ev.properties.info as Message);
        case "message.part.updated":
          return void onPart(ev.properties.part as Part);
        case "message.part.delta": {
          const p = ev.properties;
          if (!userMessageId || p.field !== "text" || userIds.has(p.messageID)) return;
          const answer = text.delta(p.partID, p.delta);
          if (answer) emit(answer, p.partID);
          const thought = reasoning.delta(p.partID, p.delta);
          if (thought) emitReasoning(p.partID, thought);
          return;
        }
        case "todo.updated":
          if (userMessageId) emitPart(todoUpdate(ev.properties.todos));
          return;
        case "session.error":
          if (ev.properties.error) agentError = ev.properties.error;
          return void log.debug("OpenCode reported an error", { error: o.describeError(ev.properties.error) });
        case "session.status": {
          const st = ev.properties.status;
          if (st.type === "retry") log.warn("OpenCode is retrying the model request", { attempt: st.attempt, message: st.message });
          return;
        }
        case "session.idle":
          return "idle";
        default:
          return;
      }
    },
    applySnapshot(list, sessionIdle) {
      let idx = userMessageId ? list.findIndex((m) => m.info.id === userMessageId) : -1;
      if (idx < 0) idx = list.findIndex((m) => m.info.role === "user" && m.info.time.created >= sentAt);
      if (idx < 0) return null; // not admitted yet: live events will show it
      admit(list[idx]!.info.id);
      let recovered = 0;
      let last: Message | null = null;
      for (const m of list.slice(idx + 1)) {
        if (m.info.role === "user") break;
        last = m.info;
        assistantIds.add(m.info.id);
        if (m.info.error) agentError = m.info.error;
        if (m.info.role === "assistant" && m.info.time.completed) emitPart(messageUsage(m.info));
        for (const part of m.parts) {
          text.noteType(part.id, part.type);
          reasoning.noteType(part.id, part.type);
          if (part.type === "reasoning") {
            const missed = reasoning.snapshot(part.id, part.text, Boolean(part.time?.end));
            if (missed) emitReasoning(part.id, missed);
            continue;
          }
          if (part.type !== "text") {
            onOtherPart(part);
            continue;
          }
          if (part.ignored) continue;
          const missing = text.snapshot(part.id, part.text, Boolean(part.time?.end));
          if (missing) emit(missing, part.id);
          recovered += missing.length;
        }
      }
      if (recovered) log.debug("relayed text missed while the event stream was away", { chars: recovered });
      // Idle alone is not the end: between admission and the first step the session is idle
      // too. The run is over when it is idle and its last assistant message is closed.
      return sessionIdle && last?.role === "assistant" && Boolean(last.time.completed || last.error);
    },
  };
}
