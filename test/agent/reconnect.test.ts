// The event stream drops while OpenCode lives (here: forced by a tiny silence watchdog, so it
// reconnects in every pause between slow chunks). Deltas sent while it was away are recovered
// from the session's messages; nothing is lost or relayed twice.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AgentServer } from "../../src/agent/index.ts";
import { slowAnswerChunks } from "../support/stub-model.ts";
import { harness, turn, type Harness } from "./helpers.ts";

// Every pause between chunks must outlast the silence limit plus one check of it (the watchdog
// looks every `eventStaleAfterMs`), or whether a pause forces a reconnect is up to the scheduler.
const STALE_MS = 300;
const CHUNK_GAP_MS = 3 * STALE_MS;
const CHUNKS = 10;

describe("event stream reconnects", () => {
  let h: Harness;
  let agent: AgentServer;
  beforeAll(async () => {
    h = await harness({ slowChunkDelayMs: CHUNK_GAP_MS, slowChunks: CHUNKS });
    agent = await h.start({ eventStaleAfterMs: STALE_MS });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  }, 60_000);

  test("a turn's text survives reconnects exactly once, in order", async () => {
    const s = await agent.createSession("reconnects");
    const t = turn(agent, s, "SLOW please");
    expect(await t.done).toEqual({ outcome: "completed" });
    expect(t.text()).toBe(slowAnswerChunks(CHUNKS).join(""));
    const reconnects = h.lines.filter((l) => l.includes("event stream reconnected")).length;
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
});
