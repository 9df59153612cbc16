import { describe, expect, test } from "bun:test";
import { ConvexError } from "convex/values";
import { createRelay } from "../../src/worker/relay.ts";

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
});
