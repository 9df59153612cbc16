// The stub model itself, spoken to like an OpenAI-compatible client would.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CANNED_ANSWER, startStubModel, stubFailureMessage, TOOL_COMMAND, type StubModel } from "../support/stub-model.ts";

async function streamed(url: string, content: string, extra: Record<string, unknown> = {}): Promise<{ text: string; raw: string; finish: string[] }> {
  const res = await fetch(`${url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "stub-model", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content }], ...extra }),
  });
  const raw = await res.text();
  let text = "";
  const finish: string[] = [];
  for (const line of raw.split("\n")) {
    if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
    const c = JSON.parse(line.slice(6));
    for (const ch of c.choices) {
      if (ch.delta?.content) text += ch.delta.content;
      if (ch.finish_reason) finish.push(ch.finish_reason);
    }
  }
  return { text, raw, finish };
}

describe("stub model", () => {
  let stub: StubModel;
  beforeAll(async () => {
    stub = await startStubModel({ chunkDelayMs: 1, slowChunkDelayMs: 50 });
  });
  afterAll(() => stub.stop());

  test("streams the canned answer in several chunks, then finish, usage and [DONE]", async () => {
    const r = await streamed(stub.url, "hello");
    expect(r.text).toBe(CANNED_ANSWER);
    expect(r.raw.match(/"content":"[^"]+"/g)!.length).toBeGreaterThan(3);
    expect(r.finish).toEqual(["stop"]);
    expect(r.raw).toContain('"usage"');
    expect(r.raw.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(stub.requests.at(-1)).toMatchObject({ lastUserText: "hello", stream: true, mode: "answer", finished: true, closedEarly: false });
  });

  test("answers without streaming too, and lists its model", async () => {
    const res = await fetch(`${stub.url}/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ messages: [{ role: "user", content: [{ type: "text", text: "ECHO: plain" }] }] }),
    });
    expect((await res.json()).choices[0].message.content).toBe("plain");
    const models = await (await fetch(`${stub.url}/models`)).json();
    expect(models.data[0].id).toBe("stub-model");
  });

  test("FAIL4xx returns that status with a JSON error body", async () => {
    const res = await fetch(`${stub.url}/chat/completions`, { method: "POST", body: JSON.stringify({ stream: true, messages: [{ role: "user", content: "FAIL403" }] }) });
    expect(res.status).toBe(403);
    expect((await res.json()).error.message).toBe(stubFailureMessage(403));
  });

  test("TOOL asks for a bash call, then answers once the tool result is there", async () => {
    const first = await streamed(stub.url, "TOOL now");
    expect(first.finish).toEqual(["tool_calls"]);
    expect(first.raw).toContain('"name":"bash"');
    expect(first.raw).toContain(JSON.stringify(TOOL_COMMAND).slice(1, -1));
    const second = await streamed(stub.url, "TOOL now", {
      messages: [
        { role: "user", content: "TOOL now" },
        { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "bash", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "c1", content: "ok" },
      ],
    });
    expect(second.finish).toEqual(["stop"]);
    expect(stub.requests.at(-1)!.mode).toBe("tool-final");
  });

  test("a client that goes away mid-stream is recorded (SLOW), and HANG never answers", async () => {
    const ac = new AbortController();
    const res = await fetch(`${stub.url}/chat/completions`, { method: "POST", signal: ac.signal, body: JSON.stringify({ stream: true, messages: [{ role: "user", content: "SLOW" }] }) });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    const slow = await stub.waitForRequest((r) => r.mode === "slow" && r.closedEarly, 5_000);
    expect(slow.finished).toBe(false);

    const hang = new AbortController();
    const pending = fetch(`${stub.url}/chat/completions`, { method: "POST", signal: hang.signal, body: JSON.stringify({ stream: true, messages: [{ role: "user", content: "HANG" }] }) });
    const h = await stub.waitForRequest((r) => r.mode === "hang", 5_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.finished).toBe(false);
    hang.abort();
    await pending.then((r) => r.text()).catch(() => {});
    await stub.waitForRequest((r) => r.mode === "hang" && r.closedEarly, 5_000);
  });
});
