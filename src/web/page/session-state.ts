// The page's copy of a session, kept by applying the server's events. Every event is safe to
// apply twice: a `message` replaces by id, a `delta` appends only the part not yet held, a
// part replaces the one with its key, a request list replaces the message's list.
import type { ChatMessageView, TurnPart } from "../../backend/api.ts";
import type { RequestView } from "../../backend/api.ts";
import type { SessionEvent } from "../session-cursor.ts";

export type SessionState = {
  messages: ChatMessageView[];
  /** Per answer, its parts by key. */
  parts?: Record<string, Record<string, TurnPart>>;
  /** Per answer, its permission requests and questions. */
  requests?: Record<string, RequestView[]>;
};

/** The result, or "refetch" when the events skipped text we never got (then reload the session). */
export function applyEvent(state: SessionState, e: SessionEvent): SessionState | "refetch" {
  switch (e.type) {
    case "reset": {
      const keep = new Set(e.views.map((v) => v.messageId));
      const only = <T>(r: Record<string, T> | undefined) => Object.fromEntries(Object.entries(r ?? {}).filter(([id]) => keep.has(id)));
      return { messages: e.views, parts: only(state.parts), requests: only(state.requests) };
    }
    case "message": {
      const i = state.messages.findIndex((m) => m.messageId === e.view.messageId);
      if (i < 0) return { ...state, messages: [...state.messages, e.view].sort((a, b) => a.createdAt - b.createdAt || roleOrder(a) - roleOrder(b)) };
      return { ...state, messages: state.messages.map((m, j) => (j === i ? e.view : m)) };
    }
    case "delta":
      return patch(state, e.messageId, (m) => {
        if (e.offset > m.text.length) return "refetch";
        const fresh = e.text.slice(m.text.length - e.offset);
        return fresh === "" ? m : { ...m, text: m.text + fresh };
      });
    case "status":
      return patch(state, e.messageId, (m) => ({ ...m, status: e.status, reason: e.reason, finishedAt: e.finishedAt }));
    case "parts": {
      const had = state.parts?.[e.messageId] ?? {};
      const next = { ...had };
      for (const p of e.parts) next[p.key] = p;
      return { ...state, parts: { ...state.parts, [e.messageId]: next } };
    }
    case "requests":
      return { ...state, requests: { ...state.requests, [e.messageId]: e.requests } };
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
  return { ...state, messages: state.messages.map((m, j) => (j === i ? next : m)) };
}

export const FINAL_STATUSES = ["completed", "failed", "cancelled", "interrupted"];

export function isRunning(m: ChatMessageView): boolean {
  return m.role === "assistant" && (m.status === "queued" || m.status === "running");
}
