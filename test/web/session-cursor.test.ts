// The resume cursor and the page's merge: replaying, overlapping or skipping events never
// doubles or loses text.
import { describe, expect, test } from "bun:test";
import type { ChatMessageView } from "../../src/backend/api.ts";
import { applyEvent, type SessionState } from "../../src/web/page/session-state.ts";
import { decodeCursor, diffSession, emptyCursor, encodeCursor } from "../../src/web/session-cursor.ts";

const view = (id: string, role: "user" | "assistant", text: string, status: ChatMessageView["status"] = null, t = 1): ChatMessageView => ({
  messageId: id,
  sessionId: "s",
  role,
  status,
  text,
  reason: null,
  createdAt: t,
  finishedAt: null,
  outputBatches: 0,
  pendingRequests: 0,
});

function replay(state: SessionState, views: ChatMessageView[], cursor = emptyCursor()) {
  const d = diffSession(views, cursor);
  for (const e of d.events) {
    const next = applyEvent(state, e);
    if (next === "refetch") throw new Error("unexpected refetch");
    state = next;
  }
  return { state, cursor: d.cursor, events: d.events };
}

describe("session cursor", () => {
  test("successive snapshots become message, delta and status events that rebuild the same session", () => {
    const u = view("u1", "user", "hi");
    let r = replay({ messages: [] }, [u, view("a1", "assistant", "", "queued")]);
    expect(r.events.map((e) => e.type)).toEqual(["message", "message"]);
    r = replay(r.state, [u, view("a1", "assistant", "Hel", "running")], r.cursor);
    expect(r.events).toEqual([
      { type: "delta", messageId: "a1", offset: 0, text: "Hel" },
      { type: "status", messageId: "a1", status: "running", reason: null, finishedAt: null },
    ]);
    r = replay(r.state, [u, view("a1", "assistant", "Hello", "completed")], r.cursor);
    expect(r.state.messages.map((m) => m.text)).toEqual(["hi", "Hello"]);
    // A finished answer stays in the cursor until the stream sent its request list (and parts)…
    expect(Object.keys(r.cursor.open)).toEqual(["a1"]);
    r.cursor.open.a1!.req = 0;
    // …then leaves it; an unchanged snapshot sends nothing.
    const again = replay(r.state, [u, view("a1", "assistant", "Hello", "completed")], r.cursor);
    expect(again.events).toEqual([]);
    expect(again.cursor.open).toEqual({});
  });

  test("the cursor survives encoding, and anything malformed decodes as empty", () => {
    const c = { last: "a1", open: { a1: { status: "running", len: 5, seq: 3, req: -1 } } };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    for (const bad of [undefined, "", "%%%", Buffer.from('{"last":1}').toString("base64url"), "x".repeat(9000)]) {
      expect(decodeCursor(bad)).toEqual(emptyCursor());
    }
  });

  test("a cursor whose newest message left the window gets the whole session as a reset", () => {
    const d = diffSession([view("u9", "user", "x")], { last: "gone", open: {} });
    expect(d.events.map((e) => e.type)).toEqual(["reset"]);
  });

  test("the page applies a replayed message and an overlapping delta once", () => {
    let s: SessionState = { messages: [view("a1", "assistant", "Hello", "running")] };
    s = applyEvent(s, { type: "message", view: view("a1", "assistant", "Hello", "running") }) as SessionState;
    expect(s.messages.length).toBe(1);
    s = applyEvent(s, { type: "delta", messageId: "a1", offset: 3, text: "lo, world" }) as SessionState;
    expect(s.messages[0]!.text).toBe("Hello, world");
    s = applyEvent(s, { type: "delta", messageId: "a1", offset: 0, text: "Hello" }) as SessionState;
    expect(s.messages[0]!.text).toBe("Hello, world");
    // Text it never got: the page reloads the session instead of showing a hole.
    expect(applyEvent(s, { type: "delta", messageId: "a1", offset: 99, text: "?" })).toBe("refetch");
  });

  test("a prompt sorts before its answer created in the same instant", () => {
    let s: SessionState = { messages: [] };
    s = applyEvent(s, { type: "message", view: view("a1", "assistant", "", "queued", 5) }) as SessionState;
    s = applyEvent(s, { type: "message", view: view("u1", "user", "q", null, 5) }) as SessionState;
    expect(s.messages.map((m) => m.messageId)).toEqual(["u1", "a1"]);
  });
});
