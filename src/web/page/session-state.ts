// The page's copy of a session, kept by applying the server's events. Every event is safe to
// apply twice: a `message` replaces by id, a `delta` appends only the part not yet held.
import type { ChatMessageView } from "../../backend/api.ts";
import type { SessionEvent } from "../session-cursor.ts";

export type SessionState = { messages: ChatMessageView[] };

/** The result, or "refetch" when the events skipped text we never got (then reload the session). */
export function applyEvent(state: SessionState, e: SessionEvent): SessionState | "refetch" {
  switch (e.type) {
    case "reset":
      return { messages: e.views };
    case "message": {
      const i = state.messages.findIndex((m) => m.messageId === e.view.messageId);
      if (i < 0) return { messages: [...state.messages, e.view].sort((a, b) => a.createdAt - b.createdAt || roleOrder(a) - roleOrder(b)) };
      return { messages: state.messages.map((m, j) => (j === i ? e.view : m)) };
    }
    case "delta":
      return patch(state, e.messageId, (m) => {
        if (e.offset > m.text.length) return "refetch";
        const fresh = e.text.slice(m.text.length - e.offset);
        return fresh === "" ? m : { ...m, text: m.text + fresh };
      });
    case "status":
      return patch(state, e.messageId, (m) => ({ ...m, status: e.status, reason: e.reason, finishedAt: e.finishedAt }));
  }
}

// A prompt and its answer are created in the same instant; the prompt reads first.
function roleOrder(m: ChatMessageView): number {
  return m.role === "user" ? 0 : 1;
}

function patch(state: SessionState, id: string, f: (m: ChatMessageView) => ChatMessageView | "refetch"): SessionState | "refetch" {
  const i = state.messages.findIndex((m) => m.messageId === id);
  if (i < 0) return "refetch";
  const next = f(state.messages[i]!);
  if (next === "refetch") return next;
  if (next === state.messages[i]) return state;
  return { messages: state.messages.map((m, j) => (j === i ? next : m)) };
}

export const FINAL_STATUSES = ["completed", "failed", "cancelled", "interrupted"];

export function isRunning(m: ChatMessageView): boolean {
  return m.role === "assistant" && (m.status === "queued" || m.status === "running");
}
