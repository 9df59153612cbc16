// A turn's typed parts: stored with the output batch that carries them (same idempotency and
// order), changed in place, read back only when changed since what the reader has.
import { describe, expect, test } from "bun:test";
import { chatApi, workerApi, type PartUpdate } from "../../src/backend/api.ts";
import { TOOL_OUTPUT_CHARS } from "../../convex/lib/constants.ts";
import { expectCode, onlineWorker, runningPrompt } from "./setup.ts";
import { newBackend } from "./setup.ts";

const tool = (status: "pending" | "running" | "completed", output: string | null = null) => ({
  key: "prt_tool",
  kind: "tool" as const,
  tool: { name: "bash", callId: "call_1", status, title: status === "pending" ? null : "echo hi", input: "echo hi", output, error: null, truncated: [] },
});
const usage: PartUpdate = { key: "usage:step1", kind: "usage", usage: { scope: "step", input: 10, output: 20, reasoning: 0, cacheRead: 0, cacheWrite: 0, cost: 0.5 } };

describe("turn parts", () => {
  test("stored in first-seen order, changed in place; a reader gets only what changed after its seq; a repeated batch changes nothing", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    const append = (seq: number, text: string, parts: PartUpdate[]) =>
      t.mutation(workerApi.appendOutput, { auth: w.auth, instanceId: w.instanceId, messageId, seq, text, parts });

    await append(0, "Let me look.", [{ key: "prt_a", kind: "text", start: 0, end: 12 }, tool("pending"), tool("running")]);
    await append(1, "", [tool("completed", "hi\n"), usage]);
    // A retry of batch 1 (its first answer was lost) stores nothing twice.
    await append(1, "", [{ key: "prt_r", kind: "reasoning", append: "dup" }]);
    await append(2, " Done.", [{ key: "prt_b", kind: "text", start: 12, end: 18 }, { key: "todo", kind: "todo", todos: [{ content: "x", status: "completed", priority: "high" }] }]);

    const all = await t.query(chatApi.parts, { messageId, afterSeq: -1 });
    expect(all.throughSeq).toBe(2);
    expect(all.parts.map((p) => [p.key, p.kind, p.order, p.seq])).toEqual([
      ["prt_a", "text", 0, 0],
      ["prt_tool", "tool", 1, 1],
      ["usage:step1", "usage", 2, 1],
      ["prt_b", "text", 3, 2],
      ["todo", "todo", 4, 2],
    ]);
    const toolPart = all.parts[1]!;
    expect(toolPart.kind === "tool" && toolPart.tool).toMatchObject({ status: "completed", statuses: ["pending", "running", "completed"], output: "hi\n" });

    const fresh = await t.query(chatApi.parts, { messageId, afterSeq: 1 });
    expect(fresh.parts.map((p) => p.key)).toEqual(["prt_b", "todo"]);
    expect((await t.query(chatApi.parts, { messageId, afterSeq: 2 })).parts).toEqual([]);
    expect((await t.query(chatApi.message, { messageId }))!.text).toBe("Let me look. Done.");
  });

  test("over-cap fields and a part changing its kind are refused, nothing of the batch stored", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const { messageId } = await runningPrompt(t, w);
    const append = (seq: number, parts: PartUpdate[]) =>
      t.mutation(workerApi.appendOutput, { auth: w.auth, instanceId: w.instanceId, messageId, seq, text: "x", parts });
    await expectCode(append(0, [tool("completed", "y".repeat(TOOL_OUTPUT_CHARS + 1))]), "INVALID");
    await append(0, [tool("pending")]);
    await expectCode(append(1, [{ key: "prt_tool", kind: "reasoning", append: "no" }]), "INVALID");
    const read = await t.query(chatApi.parts, { messageId, afterSeq: -1 });
    expect(read.parts.map((p) => p.kind)).toEqual(["tool"]);
    expect((await t.query(chatApi.message, { messageId }))!.text).toBe("x");
  });
});
