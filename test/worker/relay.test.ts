import { describe, expect, test } from "bun:test";
import { ConvexError } from "convex/values";
import type { PartUpdate } from "../../src/backend/api.ts";
import { createRelay } from "../../src/worker/relay.ts";
import { MAX_PART_UPDATES } from "../../convex/lib/constants.ts";

describe("relay", () => {
  test("coalesces many deltas into few ordered batches, nothing lost", async () => {
    const writes: [number, string][] = [];
    const relay = createRelay({
      windowMs: 20,
      write: async (seq, text) => {
        await new Promise((r) => setTimeout(r, 5));
        writes.push([seq, text]);
      },
    });
    const deltas = Array.from({ length: 200 }, (_, i) => `d${i} `);
    for (const d of deltas) relay.push(d);
    await relay.flush();
    expect(writes.map(([s]) => s)).toEqual(writes.map((_, i) => i));
    expect(writes.map(([, t]) => t).join("")).toBe(deltas.join(""));
    expect(writes.length).toBeLessThan(5);
    expect(relay.batches).toBe(writes.length);
  });

  test("a transient failure is retried with the same sequence number", async () => {
    const seen: number[] = [];
    let failOnce = true;
    const relay = createRelay({
      windowMs: 1,
      write: async (seq) => {
        seen.push(seq);
        if (failOnce) {
          failOnce = false;
          throw new Error("connection lost");
        }
      },
    });
    relay.push("hello");
    await relay.flush();
    expect(seen).toEqual([0, 0]);
    expect(relay.failed).toBeUndefined();
  });

  test("a fatal backend error stops the relay and reports once", async () => {
    let fatal = 0;
    const relay = createRelay({
      windowMs: 1,
      write: async () => {
        throw new ConvexError({ code: "CONFLICT", message: "not the lease holder" });
      },
      onFatal: () => fatal++,
    });
    relay.push("a");
    await relay.flush();
    relay.push("b");
    await relay.flush();
    expect(fatal).toBe(1);
    expect(relay.failed).toBeInstanceOf(ConvexError);
  });

  test("parts ride in the batches with the text: text parts as exact ranges of it, each tool status kept, reasoning joined, a retry resends the same batch", async () => {
    const writes: { seq: number; text: string; parts: PartUpdate[] }[] = [];
    let failOnce = true;
    const relay = createRelay({
      windowMs: 20,
      write: async (seq, text, parts) => {
        if (failOnce) {
          failOnce = false;
          throw new Error("connection lost");
        }
        writes.push({ seq, text, parts });
      },
    });
    const tool = (status: "pending" | "running" | "completed") => ({
      key: "t1",
      kind: "tool" as const,
      tool: { name: "bash", callId: "c1", status, title: null, input: "ls", output: null, error: null, truncated: [] },
    });
    relay.push("Let me ", "p1");
    relay.push("look.", "p1");
    relay.pushPart({ key: "r1", kind: "reasoning", append: "hmm " });
    relay.pushPart({ key: "r1", kind: "reasoning", append: "ok" });
    relay.pushPart(tool("pending"));
    relay.pushPart(tool("running"));
    relay.pushPart(tool("running"));
    relay.pushPart(tool("completed"));
    relay.push(" Done.", "p2");
    await relay.flush();
    expect(writes.map((w) => w.seq)).toEqual(writes.map((_, i) => i));
    const text = writes.map((w) => w.text).join("");
    expect(text).toBe("Let me look. Done.");
    const parts = writes.flatMap((w) => w.parts);
    const ranges = parts.filter((p) => p.kind === "text").map((p) => (p.kind === "text" ? [p.key, text.slice(p.start, p.end)] : []));
    expect(ranges).toEqual([
      ["p1", "Let me look."],
      ["p2", " Done."],
    ]);
    expect(parts.filter((p) => p.kind === "tool").map((p) => (p.kind === "tool" ? p.tool.status : ""))).toEqual(["pending", "running", "completed"]);
    expect(parts.filter((p) => p.kind === "reasoning")).toEqual([{ key: "r1", kind: "reasoning", append: "hmm ok" }]);
  });

  test("a batch of only part changes is written too", async () => {
    const writes: [number, string, number][] = [];
    const relay = createRelay({ windowMs: 1, write: async (seq, text, parts) => void writes.push([seq, text, parts.length]) });
    relay.pushPart({ key: "todo", kind: "todo", todos: [{ content: "x", status: "pending", priority: "low" }] });
    await relay.flush();
    expect(writes).toEqual([[0, "", 1]]);
  });

  test("part changes that piled up during a slow write go out in batches the backend accepts, in order", async () => {
    const batches: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const relay = createRelay({
      windowMs: 1,
      write: async (_seq, _text, parts) => {
        if (batches.length === 0) await gate;
        batches.push(parts.map((p) => p.key));
      },
    });
    relay.pushPart({ key: "first", kind: "todo", todos: [] });
    await new Promise((r) => setTimeout(r, 10)); // the first write is now in flight
    const keys = Array.from({ length: MAX_PART_UPDATES + 50 }, (_, i) => `k${i}`);
    for (const key of keys) relay.pushPart({ key, kind: "reasoning", append: "x" });
    release();
    await relay.flush();
    expect(batches.every((b) => b.length <= MAX_PART_UPDATES)).toBe(true);
    expect(batches.flat()).toEqual(["first", ...keys]);
  });
});
