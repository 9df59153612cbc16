// The turn's event rules, fed with exact event sequences OpenCode was seen to emit
// (shared/reference/opencode.md §4). The real-OpenCode tests cover the happy paths; these pin
// down orderings that real runs produce only now and then (e.g. the duplicate idle after an
// abort arriving in a separate chunk). The "server" here is a scripted stand-in for OpenCode's
// HTTP API, not a mock of our code.
import { describe, expect, test } from "bun:test";
import type { OpencodeClient } from "@opencode-ai/sdk/v2/client";
import { runPrompt, type TurnContext, type TurnHandle, type TurnResult } from "../../src/agent/turn.ts";
import type { AgentEvent } from "../../src/agent/events.ts";
import { silentLogger } from "../../src/util/log.ts";

const SID = "ses_test1";

function scripted() {
  const turns = new Map<string, TurnHandle>();
  const calls: string[] = [];
  let snapshot: unknown[] = [];
  let statuses: Record<string, unknown> = {};
  let promptFails: Error | null = null;
  const client = {
    session: {
      promptAsync: async () => {
        calls.push("prompt");
        if (promptFails) throw promptFails;
        return { data: undefined };
      },
      abort: async () => {
        calls.push("abort");
        return { data: true };
      },
      messages: async () => ({ data: snapshot }),
      status: async () => ({ data: statuses }),
    },
  } as unknown as OpencodeClient;
  let gone: string | null = null;
  const ctx: TurnContext = { client, directory: "/p", log: silentLogger, turns, goneReason: () => gone, ready: async () => {} };
  const ev = (type: string, properties: Record<string, unknown>) => turns.get(SID)?.onEvent({ id: "evt", type, properties } as unknown as AgentEvent);
  return {
    ctx,
    calls,
    setSnapshot: (s: unknown[], st: Record<string, unknown>) => ((snapshot = s), (statuses = st)),
    failPrompt: (e: Error) => (promptFails = e),
    setGone: (r: string) => (gone = r),
    handle: () => turns.get(SID),
    userMsg: (id: string, created = Date.now()) => ev("message.updated", { info: { id, sessionID: SID, role: "user", time: { created } } }),
    assistantMsg: (id: string, extra: Record<string, unknown> = {}) =>
      ev("message.updated", { info: { id, sessionID: SID, role: "assistant", parentID: "u", time: { created: Date.now() }, ...extra } }),
    part: (id: string, messageID: string, type: string, extra: Record<string, unknown> = {}) =>
      ev("message.part.updated", { part: { id, sessionID: SID, messageID, type, text: "", ...extra } }),
    delta: (partID: string, messageID: string, delta: string, field = "text") => ev("message.part.delta", { sessionID: SID, messageID, partID, field, delta }),
    idle: () => ev("session.idle", { sessionID: SID }),
    error: (error: unknown) => ev("session.error", { sessionID: SID, error }),
  };
}

function start(s: ReturnType<typeof scripted>, o: { signal?: AbortSignal; inactivityTimeoutMs?: number } = {}) {
  let text = "";
  const done = runPrompt(s.ctx, {
    sessionId: SID,
    prompt: "p",
    onText: (d) => (text += d),
    signal: o.signal ?? new AbortController().signal,
    inactivityTimeoutMs: o.inactivityTimeoutMs ?? 10_000,
  });
  let settled: TurnResult | null = null;
  done.then((r) => (settled = r));
  return { done, text: () => text, settled: () => settled };
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe("turn event rules", () => {
  test("an idle before this prompt's user message is a stray one from an aborted run", async () => {
    const s = scripted();
    const t = start(s);
    await tick();
    expect(s.calls).toEqual(["prompt"]);
    s.idle(); // the duplicate idle of the previous, aborted run
    s.userMsg("msg_old", Date.now() - 60_000); // an older user message being updated: not ours
    s.idle();
    await tick();
    expect(t.settled()).toBeNull();
    s.userMsg("msg_new");
    s.delta("p1", "msg_a", "Hello ");
    s.delta("p1", "msg_a", "world");
    s.idle();
    expect(await t.done).toEqual({ outcome: "completed" });
    expect(t.text()).toBe("Hello world");
  });

  test("deltas count before the assistant's message is known; user, reasoning and tool input do not", async () => {
    const s = scripted();
    const t = start(s);
    await tick();
    s.delta("px", "msg_a", "too early"); // before admission
    s.userMsg("msg_u");
    s.delta("pu", "msg_u", "user text"); // a user message's part
    s.part("pr", "msg_a", "reasoning");
    s.delta("pr", "msg_a", "thinking…");
    s.delta("pt", "msg_a", "{\"cmd\":", "input");
    s.delta("p1", "msg_a", "Answer"); // assistant's message.updated not seen yet
    s.assistantMsg("msg_a", { finish: "stop" });
    s.part("p1", "msg_a", "text", { text: "Answer", time: { start: 1, end: 2 } }); // final text: nothing missing
    s.idle();
    expect(await t.done).toEqual({ outcome: "completed" });
    expect(t.text()).toBe("Answer");
  });

  test("a final text part fills in what the deltas missed, once", async () => {
    const s = scripted();
    const t = start(s);
    await tick();
    s.userMsg("msg_u");
    s.assistantMsg("msg_a");
    s.delta("p1", "msg_a", "Hel");
    s.part("p1", "msg_a", "text", { text: "Hello!", time: { start: 1, end: 2 } });
    s.delta("p1", "msg_a", "lo!"); // late duplicate of what the final text held
    s.idle();
    await t.done;
    expect(t.text()).toBe("Hello!");
  });

  test("an API error fails the turn with its message and status", async () => {
    const s = scripted();
    const t = start(s);
    await tick();
    s.userMsg("msg_u");
    s.error({ name: "APIError", data: { message: "Bad request from provider", statusCode: 400, isRetryable: false } });
    s.idle();
    expect(await t.done).toEqual({ outcome: "failed", reason: "Bad request from provider (HTTP 400)" });
  });

  test("a rejected prompt fails at once", async () => {
    const s = scripted();
    s.failPrompt(new Error("Session not found"));
    expect(await start(s).done).toEqual({ outcome: "failed", reason: "OpenCode did not accept the prompt: Session not found" });
  });

  test("cancel before admission aborts, and aborts again once the prompt shows up", async () => {
    const s = scripted();
    const ac = new AbortController();
    const t = start(s, { signal: ac.signal });
    await tick();
    ac.abort();
    await tick();
    expect(s.calls).toEqual(["prompt", "abort"]);
    s.userMsg("msg_u");
    await tick();
    expect(s.calls).toEqual(["prompt", "abort", "abort"]);
    s.error({ name: "MessageAbortedError", data: { message: "Aborted" } });
    s.idle();
    expect(await t.done).toEqual({ outcome: "cancelled" });
  });

  test("no events for the inactivity timeout: abort, then failed with the reason", async () => {
    const s = scripted();
    const t = start(s, { inactivityTimeoutMs: 150 });
    await tick();
    s.userMsg("msg_u");
    await tick(250);
    expect(s.calls).toContain("abort");
    s.idle();
    expect(await t.done).toEqual({ outcome: "failed", reason: "no agent activity for 0.2 s" });
  });

  test("the server going away fails the turn with its reason", async () => {
    const s = scripted();
    const t = start(s);
    await tick();
    s.userMsg("msg_u");
    s.handle()!.serverGone("OpenCode exited unexpectedly (signal SIGKILL)");
    expect(await t.done).toEqual({ outcome: "failed", reason: "OpenCode exited unexpectedly (signal SIGKILL)" });
    // …and a turn on a server already gone fails without prompting.
    s.setGone("OpenCode exited unexpectedly (exit code 1)");
    expect(await start(s).done).toEqual({ outcome: "failed", reason: "OpenCode exited unexpectedly (exit code 1)" });
  });

  test("after a reconnect, missed text comes from the session's messages and held deltas follow in order", async () => {
    const s = scripted();
    const t = start(s);
    await tick();
    s.userMsg("msg_u");
    s.assistantMsg("msg_a");
    s.delta("p1", "msg_a", "One ");
    // (stream drops: "two " and the start of p2 are lost)
    const created = Date.now();
    s.setSnapshot(
      [
        { info: { id: "msg_old", role: "user", time: { created: created - 60_000 } }, parts: [] },
        { info: { id: "msg_u", role: "user", time: { created } }, parts: [] },
        {
          info: { id: "msg_a", role: "assistant", time: { created } },
          parts: [
            { id: "p1", messageID: "msg_a", type: "text", text: "One two ", time: { start: 1, end: 2 } },
            { id: "p2", messageID: "msg_a", type: "text", text: "three", time: { start: 3 } },
          ],
        },
      ],
      { [SID]: { type: "busy" } },
    );
    s.handle()!.recover();
    // Arriving while the snapshot is being fetched: held, then replayed against it.
    s.delta("p2", "msg_a", " four"); // p2 is mid-stream in the snapshot → finished from its final text
    s.part("p2", "msg_a", "text", { text: "three four", time: { start: 3, end: 4 } });
    s.delta("p3", "msg_a", " Five"); // a part newer than the snapshot → relayed from its deltas
    expect(t.text()).toBe("One "); // nothing relayed out of order meanwhile
    await tick(20);
    expect(t.text()).toBe("One two three four Five");
    s.delta("p3", "msg_a", " six");
    s.idle();
    await t.done;
    expect(t.text()).toBe("One two three four Five six");
  });

  test("a turn that ended while the stream was away completes from the snapshot", async () => {
    const s = scripted();
    const t = start(s);
    await tick();
    s.userMsg("msg_u");
    const created = Date.now();
    s.setSnapshot(
      [
        { info: { id: "msg_u", role: "user", time: { created } }, parts: [] },
        {
          info: { id: "msg_a", role: "assistant", time: { created, completed: created + 1 }, finish: "stop" },
          parts: [{ id: "p1", messageID: "msg_a", type: "text", text: "All of it", time: { start: 1, end: 2 } }],
        },
      ],
      {}, // idle sessions are omitted
    );
    s.handle()!.recover();
    expect(await t.done).toEqual({ outcome: "completed" });
    expect(t.text()).toBe("All of it");
  });

  test("idle right after admission, before the run produced anything, is not the end", async () => {
    const s = scripted();
    const t = start(s);
    await tick();
    s.userMsg("msg_u");
    s.setSnapshot([{ info: { id: "msg_u", role: "user", time: { created: Date.now() } }, parts: [] }], {});
    s.handle()!.recover();
    await tick(20);
    expect(t.settled()).toBeNull();
    s.delta("p1", "msg_a", "Later");
    s.idle();
    expect(await t.done).toEqual({ outcome: "completed" });
    expect(t.text()).toBe("Later");
  });
});
