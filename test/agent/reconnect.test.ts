// The event stream drops while OpenCode lives (here: forced by a tiny silence watchdog). The
// stub sends each chunk of the answer only once the watchdog has dropped the stream, so every
// chunk is produced while the stream is away or reconnecting, however slow the machine is.
// Deltas sent while it was away are recovered from the session's messages; nothing is lost or
// relayed twice.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AgentServer } from "../../src/agent/index.ts";
import { slowAnswerChunks, TOOL_FINAL_ANSWER } from "../support/stub-model.ts";
import { harness, turn, type Harness } from "./helpers.ts";

const CHUNKS = 8;
const QUIET = "event stream went quiet";

describe("event stream reconnects", () => {
  let h: Harness;
  let agent: AgentServer;
  let quietBefore = 0;
  beforeAll(async () => {
    h = await harness({
      slowChunks: CHUNKS,
      // Chunk i waits for the i-th drop of the stream during this answer.
      slowChunkGate: (i) => (i === 0 ? Promise.resolve() : h.waitForLines(QUIET, quietBefore + i)),
    });
    agent = await h.start({ eventStaleAfterMs: 300 });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  }, 60_000);

  test("a turn's text survives reconnects exactly once, in order", async () => {
    const s = await agent.createSession("reconnects");
    quietBefore = h.lines.filter((l) => l.includes(QUIET)).length;
    const reconnectedBefore = h.lines.filter((l) => l.includes("event stream reconnected")).length;
    const t = turn(agent, s, "SLOW please");
    expect(await t.done).toEqual({ outcome: "completed" });
    expect(t.text()).toBe(slowAnswerChunks(CHUNKS).join(""));
    const reconnects = h.lines.filter((l) => l.includes("event stream reconnected")).length - reconnectedBefore;
    expect(reconnects).toBeGreaterThan(2);
  }, 120_000);

  test("a turn that ends while the stream is away still completes", async () => {
    const s = await agent.createSession("quick");
    for (let i = 0; i < 5; i++) {
      const t = turn(agent, s, `ECHO: round ${i} of quick answers`);
      expect(await t.done).toEqual({ outcome: "completed" });
      expect(t.text()).toBe(`round ${i} of quick answers`);
    }
  }, 120_000);

  test("a tool call's parts survive reconnects: it ends completed with its output, no change relayed twice", async () => {
    const s = await agent.createSession("tool reconnects");
    const reconnectedBefore = h.lines.filter((l) => l.includes("event stream reconnected")).length;
    // The command outlives the watchdog several times over, so the stream drops while it runs.
    const t = turn(agent, s, "TOOLCMD:sleep 2; echo after-the-drops");
    expect(await t.done).toEqual({ outcome: "completed" });
    expect(h.lines.filter((l) => l.includes("event stream reconnected")).length - reconnectedBefore).toBeGreaterThan(0);
    expect(t.text()).toBe(TOOL_FINAL_ANSWER);
    const tools = t.parts().filter((p) => p.kind === "tool");
    const last = tools.at(-1)!;
    expect(last.kind === "tool" && last.tool).toMatchObject({ status: "completed", name: "bash" });
    expect(last.kind === "tool" && last.tool.output).toContain("after-the-drops");
    const seen = t.parts().map((p) => JSON.stringify(p));
    expect(new Set(seen).size).toBe(seen.length);
    const stepKeys = t.parts().filter((p) => p.kind === "usage" && p.usage.scope === "step").map((p) => p.key);
    expect(stepKeys.length).toBe(2);
  }, 120_000);
});
