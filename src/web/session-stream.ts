// One browser's view of one session, kept current: each backend update of the session's
// messages becomes the page's events (session-cursor.ts), followed by the parts changed since
// what the browser has (chat:parts afterSeq) and, when the count of pending requests moved, the
// answer's request list. Every event carries the cursor of what the browser holds after it, so
// a connection dropped anywhere resumes exactly there.
import type { AdminClient } from "../backend/admin-client.ts";
import type { ChatMessageView, TurnPart } from "../backend/api.ts";
import { diffSession, encodeCursor, isOpen, owesDetail, type SessionCursor, type SessionEvent } from "./session-cursor.ts";

export type Emit = (e: SessionEvent, id: string) => void;

/** Reads of chat:parts for one message in one update; more is left to the next update. */
const MAX_PART_READS = 20;

/** Parts after `afterSeq` up to batch `through`, in as many reads as the backend needs. */
async function readParts(admin: AdminClient, messageId: string, afterSeq: number, through: number) {
  const parts: TurnPart[] = [];
  let seq = afterSeq;
  for (let i = 0; i < MAX_PART_READS && seq < through; i++) {
    const r = await admin.parts(messageId, seq);
    if (r.throughSeq <= seq) break;
    seq = r.throughSeq;
    parts.push(...r.parts);
  }
  return { parts, seq };
}

export function sessionStream(admin: AdminClient, worker: string | undefined, start: SessionCursor, emit: Emit) {
  let cursor = start;
  let latest: ChatMessageView[] | null = null;
  let busy = false;
  let closed = false;
  const send = (e: SessionEvent) => emit(e, encodeCursor(cursor));

  async function detail(v: ChatMessageView): Promise<void> {
    const had = cursor.open[v.messageId];
    if (!had) return;
    if (v.outputBatches - 1 > had.seq) {
      const r = await readParts(admin, v.messageId, had.seq, v.outputBatches - 1);
      if (closed || !cursor.open[v.messageId]) return;
      cursor.open[v.messageId] = { ...cursor.open[v.messageId]!, seq: r.seq };
      if (r.parts.length > 0 || r.seq > had.seq) send({ type: "parts", messageId: v.messageId, parts: r.parts, throughSeq: r.seq });
    }
    const pending = v.pendingRequests;
    if (pending !== cursor.open[v.messageId]!.req) {
      const requests = await admin.listRequests(v.messageId, worker);
      if (closed || !cursor.open[v.messageId]) return;
      cursor.open[v.messageId] = { ...cursor.open[v.messageId]!, req: pending };
      send({ type: "requests", messageId: v.messageId, requests });
    }
  }

  async function step(views: ChatMessageView[]): Promise<void> {
    const d = diffSession(views, cursor);
    cursor = d.cursor;
    for (const e of d.events) send(e);
    for (const v of views) {
      if (closed) return;
      await detail(v);
      // An ended answer leaves the cursor once the browser has all of it.
      const o = cursor.open[v.messageId];
      if (o && !isOpen(v) && !owesDetail(v, o)) delete cursor.open[v.messageId];
    }
  }

  return {
    /** A new snapshot of the session's messages; only the newest waiting one is worked on. */
    update(views: ChatMessageView[], onError: (e: Error) => void): void {
      latest = views;
      if (busy) return;
      busy = true;
      void (async () => {
        while (latest && !closed) {
          const next = latest;
          latest = null;
          await step(next).catch((e: unknown) => onError(e instanceof Error ? e : new Error(String(e))));
        }
        busy = false;
      })();
    },
    close(): void {
      closed = true;
    },
  };
}
