// A real OpenCode asks through a turn that can reach a person: the worker's `permission` rules
// are laid over the user's own OpenCode config (the stub provider keeps working), the request
// reaches `onAsk` with what it is about, and the answer relayed with `answer` lets the tool run.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AgentServer } from "../../src/agent/index.ts";
import type { AgentAsk } from "../../src/agent/requests.ts";
import { withPermission } from "../../src/agent/env.ts";
import { RuntimeFailure } from "../../src/util/errors.ts";
import { TOOL_FINAL_ANSWER } from "../support/stub-model.ts";
import { harness, type Harness } from "./helpers.ts";

const SLOW_TEST = 120_000;
const INACTIVITY_MS = 4_000;

describe("the worker's permission rules over the user's OpenCode config", () => {
  test("merged per permission and per pattern; a single rule for everything becomes '*'", () => {
    const user = JSON.stringify({ model: "stub/stub-model", permission: { bash: { "git *": "allow" }, read: "allow" } });
    expect(JSON.parse(withPermission(user, { bash: { "*": "ask" }, edit: "ask" }))).toEqual({
      model: "stub/stub-model",
      permission: { bash: { "git *": "allow", "*": "ask" }, read: "allow", edit: "ask" },
    });
    expect(JSON.parse(withPermission(JSON.stringify({ permission: "allow" }), { bash: "ask" })).permission).toEqual({ "*": "allow", bash: "ask" });
    expect(JSON.parse(withPermission(undefined, { bash: "ask" }))).toEqual({ permission: { bash: "ask" } });
    expect(() => withPermission("{not json", { bash: "ask" })).toThrow(RuntimeFailure);
    expect(() => withPermission("[1]", { bash: "ask" })).toThrow(/OPENCODE_CONFIG_CONTENT in the environment is not a JSON object/);
  });
});

describe("a turn that can ask", () => {
  let h: Harness;
  afterAll(async () => {
    await h?.close();
  }, SLOW_TEST);

  test("permission {bash: ask}: the request reaches onAsk, the turn waits past its inactivity timeout, and `once` runs the tool", async () => {
    h = await harness();
    const agent: AgentServer = await h.start({ permission: { bash: "ask" } });
    const s = await agent.createSession("asks");
    // Warm: the first prompt of a fresh OpenCode takes seconds before any event.
    const warm = await agent.runPrompt({ sessionId: s, prompt: "ECHO: warm", onText: () => {}, signal: new AbortController().signal, inactivityTimeoutMs: 60_000 });
    expect(warm).toEqual({ outcome: "completed" });
    const marker = join(h.directory, "made-by-bash");
    let asked!: (a: AgentAsk) => void;
    const ask = new Promise<AgentAsk>((r) => (asked = r));
    let text = "";
    const done = agent.runPrompt({
      sessionId: s,
      prompt: `TOOLCMD: touch ${marker}`,
      onText: (d) => void (text += d),
      onAsk: (a) => asked(a),
      signal: new AbortController().signal,
      // Shorter than the wait below: a turn waiting for a person is not inactive.
      inactivityTimeoutMs: INACTIVITY_MS,
    });
    const a = await ask;
    expect(a).toMatchObject({ kind: "permission", permission: "bash", sessionId: s });
    expect(a.title).toStartWith("bash ");
    expect(a.patterns!.join(" ")).toContain("touch");
    expect(existsSync(marker)).toBe(false);
    await h.waitForLines("OpenCode asks a person", 1);
    // Longer than the inactivity timeout: had the silence counted, the turn would be over now.
    await new Promise((r) => setTimeout(r, INACTIVITY_MS + 1_000));
    expect(h.lines.some((l) => l.includes("turn inactive"))).toBe(false);
    expect(await agent.answer(a, { reply: "once" })).toBe("delivered");
    expect(await done).toEqual({ outcome: "completed" });
    expect(existsSync(marker)).toBe(true);
    expect(text).toBe(TOOL_FINAL_ANSWER);
    // Answered once: OpenCode no longer knows it.
    expect(await agent.answer(a, { reply: "once" })).toBe("unknown");
  }, SLOW_TEST);
});

describe("a request across event stream reconnects", () => {
  let h: Harness;
  afterAll(async () => {
    await h?.close();
  }, SLOW_TEST);

  test("OpenCode's open requests are listed again after each reconnect; the turn asks the person once", async () => {
    h = await harness();
    // A tiny silence watchdog: the stream drops and reconnects again and again while the turn waits.
    const agent = await h.start({ permission: { bash: "ask" }, eventStaleAfterMs: 300 });
    const s = await agent.createSession("asks across reconnects");
    const asks: AgentAsk[] = [];
    let asked!: () => void;
    const first = new Promise<void>((r) => (asked = r));
    const done = agent.runPrompt({
      sessionId: s,
      prompt: "TOOLCMD: echo asked-once",
      onText: () => {},
      onAsk: (a) => {
        asks.push(a);
        asked();
      },
      signal: new AbortController().signal,
      inactivityTimeoutMs: 60_000,
    });
    await first;
    const before = h.lines.filter((l) => l.includes("event stream reconnected")).length;
    await h.waitForLines("event stream reconnected", before + 3);
    // Listed again after the reconnects, and still asked only once.
    await h.waitForLines("OpenCode's open requests after a reconnect permissions=1", 2);
    expect(asks).toHaveLength(1);
    expect(await agent.answer(asks[0]!, { reply: "once" })).toBe("delivered");
    expect(await done).toEqual({ outcome: "completed" });
    expect(asks).toHaveLength(1);
  }, SLOW_TEST);
});
