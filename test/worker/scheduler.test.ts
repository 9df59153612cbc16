import { describe, expect, test } from "bun:test";
import type { PendingMessage } from "../../src/backend/api.ts";
import { createScheduler } from "../../src/worker/scheduler.ts";

const msg = (id: string, session: string, at: number): PendingMessage => ({
  messageId: id,
  sessionId: session,
  agentSessionId: null,
  sessionTitle: "t",
  prompt: id,
  createdAt: at,
  attempt: 0,
});

describe("scheduler", () => {
  test("runs at most N sessions at once, in creation order", () => {
    const s = createScheduler(2);
    s.update([msg("c", "s3", 3), msg("a", "s1", 1), msg("b", "s2", 2)]);
    expect(s.next()?.messageId).toBe("a");
    expect(s.next()?.messageId).toBe("b");
    expect(s.next()).toBeNull();
    expect(s.waiting).toBe(1);
  });

  test("messages of one session run strictly one after another", () => {
    const s = createScheduler(4);
    const first = msg("1", "s", 1);
    const second = msg("2", "s", 2);
    s.update([first, second]);
    expect(s.next()?.messageId).toBe("1");
    expect(s.next()).toBeNull();
    s.done(first);
    // A stale snapshot still listing the first message keeps the second waiting.
    expect(s.next()).toBeNull();
    s.update([second]);
    expect(s.next()?.messageId).toBe("2");
  });

  test("a message is never offered twice", () => {
    const s = createScheduler(4);
    const a = msg("a", "s1", 1);
    s.update([a]);
    expect(s.next()?.messageId).toBe("a");
    s.done(a);
    s.update([a]);
    expect(s.next()).toBeNull();
  });
});
