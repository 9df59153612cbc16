// "Only what is new" for a session's live stream. The cursor is what the browser already
// has: the newest message it knows, and for each answer still running its status and text
// length. It travels as the SSE event id, so a reconnect (EventSource sends Last-Event-ID)
// continues exactly where the browser stopped — even against a restarted server, because
// the cursor carries all the state.
import type { ChatMessageView } from "../backend/api.ts";

export type OpenMessage = { status: string | null; len: number };
export type SessionCursor = { last: string; open: Record<string, OpenMessage> };

/** What the page is told; applying them in order to what it had gives the backend's view. */
export type SessionEvent =
  | { type: "message"; view: ChatMessageView }
  | { type: "delta"; messageId: string; offset: number; text: string }
  | { type: "status"; messageId: string; status: ChatMessageView["status"]; reason: string | null; finishedAt: number | null }
  | { type: "reset"; views: ChatMessageView[] };

const FINAL = new Set(["completed", "failed", "cancelled", "interrupted"]);
/** A cursor longer than this is not ours: start over instead of parsing it. */
const MAX_CURSOR_CHARS = 8_000;

export const emptyCursor = (): SessionCursor => ({ last: "", open: {} });

export function isOpen(v: ChatMessageView): boolean {
  return v.role === "assistant" && !(v.status !== null && FINAL.has(v.status));
}

export function encodeCursor(c: SessionCursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

/** A cursor from Last-Event-ID; anything malformed means "nothing known yet". */
export function decodeCursor(text: string | undefined): SessionCursor {
  if (!text || text.length > MAX_CURSOR_CHARS) return emptyCursor();
  try {
    const c = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as SessionCursor;
    if (typeof c.last !== "string" || typeof c.open !== "object" || c.open === null) return emptyCursor();
    for (const o of Object.values(c.open)) if (typeof o?.len !== "number") return emptyCursor();
    return { last: c.last, open: { ...c.open } };
  } catch {
    return emptyCursor();
  }
}

/** The messages the browser holds as still running (their text and status may move on). */
function openViews(views: ChatMessageView[], c: SessionCursor): ChatMessageView[] {
  return views.filter((v) => Object.hasOwn(c.open, v.messageId));
}

/**
 * The events that bring a browser at `cursor` up to `views` (the session's latest messages,
 * oldest first), and the cursor after them.
 */
export function diffSession(views: ChatMessageView[], cursor: SessionCursor): { events: SessionEvent[]; cursor: SessionCursor } {
  const lastIndex = cursor.last === "" ? -1 : views.findIndex((v) => v.messageId === cursor.last);
  const lost = cursor.last !== "" && lastIndex < 0;
  const shrunk = openViews(views, cursor).some((v) => v.text.length < cursor.open[v.messageId]!.len);
  if (lost || shrunk) {
    return { events: [{ type: "reset", views }], cursor: cursorOf(views) };
  }
  const events: SessionEvent[] = [];
  const open: Record<string, OpenMessage> = {};
  for (const v of openViews(views, cursor)) {
    const had = cursor.open[v.messageId]!;
    if (v.text.length > had.len) events.push({ type: "delta", messageId: v.messageId, offset: had.len, text: v.text.slice(had.len) });
    if (v.status !== had.status) events.push({ type: "status", messageId: v.messageId, status: v.status, reason: v.reason, finishedAt: v.finishedAt });
    if (isOpen(v)) open[v.messageId] = { status: v.status, len: v.text.length };
  }
  for (const v of views.slice(lastIndex + 1)) {
    events.push({ type: "message", view: v });
    if (isOpen(v)) open[v.messageId] = { status: v.status, len: v.text.length };
  }
  const last = views.length > 0 ? views[views.length - 1]!.messageId : cursor.last;
  return { events, cursor: { last, open } };
}

function cursorOf(views: ChatMessageView[]): SessionCursor {
  const open: Record<string, OpenMessage> = {};
  for (const v of views) if (isOpen(v)) open[v.messageId] = { status: v.status, len: v.text.length };
  return { last: views.length > 0 ? views[views.length - 1]!.messageId : "", open };
}
