// "Only what is new" for a session's live stream. The cursor is what the browser already
// has: the newest message it knows, and for each answer still running its status and text
// length. It travels as the SSE event id, so a reconnect (EventSource sends Last-Event-ID)
// continues exactly where the browser stopped — even against a restarted server, because
// the cursor carries all the state. An answer's typed parts follow the same rule: `seq` is the
// last output batch whose part changes the browser holds (chat:parts afterSeq), and a message
// stays in `open` after it ended until its last parts went out.
import type { ChatMessageView, RequestView, TurnPart } from "../backend/api.ts";

export type OpenMessage = {
  status: string | null;
  len: number;
  /** Output batch whose parts the browser has (-1: none). */
  seq: number;
  /** Pending requests the browser was last told of; a change means the list is read again. */
  req: number;
};
export type SessionCursor = { last: string; open: Record<string, OpenMessage> };

/** What the page is told; applying them in order to what it had gives the backend's view. */
export type SessionEvent =
  | { type: "message"; view: ChatMessageView }
  | { type: "delta"; messageId: string; offset: number; text: string }
  | { type: "status"; messageId: string; status: ChatMessageView["status"]; reason: string | null; finishedAt: number | null }
  | { type: "reset"; views: ChatMessageView[] }
  /** Parts changed up to batch `throughSeq`; a part replaces the one with the same key. */
  | { type: "parts"; messageId: string; parts: TurnPart[]; throughSeq: number }
  /** The answer's permission requests and questions, all of them, in creation order. */
  | { type: "requests"; messageId: string; requests: RequestView[] };

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
    const open: Record<string, OpenMessage> = {};
    for (const [id, o] of Object.entries(c.open)) {
      if (typeof o?.len !== "number") return emptyCursor();
      open[id] = { status: o.status ?? null, len: o.len, seq: typeof o.seq === "number" ? o.seq : -1, req: typeof o.req === "number" ? o.req : -1 };
    }
    return { last: c.last, open };
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
    const kept = { status: v.status, len: v.text.length, seq: had.seq, req: had.req };
    if (isOpen(v) || owesDetail(v, kept)) open[v.messageId] = kept;
  }
  for (const v of views.slice(lastIndex + 1)) {
    events.push({ type: "message", view: v });
    const fresh = { status: v.status, len: v.text.length, seq: -1, req: -1 };
    if (isOpen(v) || owesDetail(v, fresh)) open[v.messageId] = fresh;
  }
  const last = views.length > 0 ? views[views.length - 1]!.messageId : cursor.last;
  return { events, cursor: { last, open } };
}

/** Whether the browser still lacks parts (batches past `seq`) or the current request list of `v`. */
export function owesDetail(v: ChatMessageView, o: OpenMessage): boolean {
  if (v.role !== "assistant") return false;
  return v.outputBatches - 1 > o.seq || v.pendingRequests !== o.req;
}

function cursorOf(views: ChatMessageView[]): SessionCursor {
  const open: Record<string, OpenMessage> = {};
  for (const v of views) {
    const o = { status: v.status, len: v.text.length, seq: -1, req: -1 };
    if (isOpen(v) || owesDetail(v, o)) open[v.messageId] = o;
  }
  return { last: views.length > 0 ? views[views.length - 1]!.messageId : "", open };
}
