// A turn's view of its OpenCode session: which user message is this prompt's (admission),
// which messages are the assistant's, the error OpenCode reported, and the answer text relayed
// from live events or from a snapshot taken after the event stream reconnected.
import type { Message, Part } from "@opencode-ai/sdk/v2/client";
import type { Logger } from "../util/log.ts";
import type { AgentEvent } from "./events.ts";
import { createTurnText } from "./turn-text.ts";

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

export function createTranscript(o: { log: Logger; emit: (text: string) => void; onAdmit: () => void; describeError: (e: unknown) => string }): Transcript {
  const { log, emit } = o;
  let sentAt = Number.POSITIVE_INFINITY;
  let userMessageId: string | null = null;
  let agentError: unknown = null;
  const userIds = new Set<string>();
  const assistantIds = new Set<string>();
  const text = createTurnText();

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
    }
  }

  function onPart(part: Part): void {
    text.noteType(part.id, part.type);
    if (part.type !== "text" || !part.time?.end) return;
    text.recordFinal(part.id, part.text);
    if (!userMessageId || text.isClosed(part.id) || part.ignored) return;
    if (text.isResyncing(part.id) || (assistantIds.has(part.messageID) && !userIds.has(part.messageID))) {
      const missing = text.close(part.id, part.text);
      emit(missing);
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
          return void emit(text.delta(p.partID, p.delta));
        }
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
        for (const part of m.parts) {
          text.noteType(part.id, part.type);
          if (part.type !== "text" || part.ignored) continue;
          const missing = text.snapshot(part.id, part.text, Boolean(part.time?.end));
          emit(missing);
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
