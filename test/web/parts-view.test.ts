// How an answer's parts become what the page shows: text ranges against the streamed text,
// usage added up per answer, diff lines classified.
import { describe, expect, test } from "bun:test";
import type { ChatMessageView, TurnPart } from "../../src/backend/api.ts";
import { diffLineKind } from "../../src/web/page/views/diff.ts";
import { answerParts, answerUsage, formatCost } from "../../src/web/page/turn.ts";

const answer = (text: string): ChatMessageView => ({
  messageId: "a",
  sessionId: "s",
  role: "assistant",
  status: "running",
  text,
  reason: null,
  createdAt: 1,
  finishedAt: null,
  outputBatches: 1,
  pendingRequests: 0,
});
const byKey = (...ps: TurnPart[]) => Object.fromEntries(ps.map((p) => [p.key, p]));
const tool = (key: string, order: number): TurnPart => ({
  key,
  order,
  seq: 0,
  kind: "tool",
  tool: { name: "bash", callId: key, status: "completed", statuses: ["completed"], title: null, input: "ls", output: "", error: null, truncated: [] },
});
const usage = (key: string, order: number, scope: "step" | "message", input: number, cost: number): TurnPart => ({
  key,
  order,
  seq: 0,
  kind: "usage",
  usage: { scope, input, output: 2 * input, reasoning: 0, cacheRead: 0, cacheWrite: 0, cost },
});

describe("answer parts", () => {
  test("no parts yet: the whole text", () => {
    expect(answerParts(answer("Hello"))).toEqual([{ kind: "text", key: "tail", text: "Hello" }]);
  });

  test("text, tool, text: each text part its own range; the last one runs on with the stream", () => {
    const parts = byKey(
      { key: "t1", order: 0, seq: 0, kind: "text", start: 0, end: 6 },
      tool("c1", 1),
      { key: "t2", order: 2, seq: 0, kind: "text", start: 6, end: 8 },
      usage("u1", 3, "step", 10, 0),
    );
    const shown = answerParts(answer("Look: done, and more"), parts);
    expect(shown.map((p) => [p.kind, "text" in p ? p.text : p.key])).toEqual([
      ["text", "Look: "],
      ["tool", "c1"],
      ["text", "done, and more"],
    ]);
  });

  test("text streamed past a tool whose text part has not arrived yet shows after it", () => {
    const parts = byKey({ key: "t1", order: 0, seq: 0, kind: "text", start: 0, end: 4 }, tool("c1", 1));
    expect(answerParts(answer("Firstthen"), parts).map((p) => ("text" in p ? p.text : p.key))).toEqual(["Firs", "c1", "tthen"]);
  });

  test("usage: the messages' totals when there are any, else the steps'", () => {
    expect(answerUsage(byKey(usage("s1", 0, "step", 10, 0.5), usage("s2", 1, "step", 5, 0.25)))).toMatchObject({ input: 15, output: 30, cost: 0.75 });
    expect(answerUsage(byKey(usage("s1", 0, "step", 10, 1), usage("m1", 1, "message", 10, 1), usage("m2", 2, "message", 3, 1)))).toMatchObject({ input: 13, cost: 2 });
    expect(answerUsage({})).toBeNull();
  });

  test("cost: cents, or enough digits that a cheap call is not $0", () => {
    expect([formatCost(0), formatCost(1.234), formatCost(0.000045)]).toEqual(["$0", "$1.23", "$0.000045"]);
  });
});

test("diff lines are classified by their first characters", () => {
  const kinds = ["--- a/x", "+++ b/x", "@@ -1 +1 @@", "-old", "+new", " same", "\\ No newline at end of file", "Index: x"].map(diffLineKind);
  expect(kinds).toEqual(["meta", "meta", "hunk", "del", "add", "ctx", "meta", "meta"]);
});
