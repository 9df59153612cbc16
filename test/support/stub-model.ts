// A stub OpenAI-compatible model server for tests: OpenCode talks to it instead of a real
// provider. It streams a canned answer and switches behaviour on magic words found in the
// last user message:
//   ECHO:<text>  answers with <text>, a chunk per word (tells turns apart)
//   FAIL4xx      HTTP 4xx with a JSON error body (4xx on purpose: OpenCode retries 5xx/429 for ~64 s)
//   HANG         sends headers, then nothing until the client goes away
//   TOOL         a `bash` tool call, then a final answer once a tool message is in the history
//   TOOLCMD:<c>  the same with the shell command <c> (rest of the line)
//   TOOLJSON:<tool> <json>  the same with any tool and its JSON arguments (rest of the line)
//   THENHANG     with a TOOL word: the model call after the tool result hangs like HANG (only an
//                abort ends it, so a test knows the turn's cost is exactly the tool step's)
//   SLOW         many chunks, slowly (for cancel tests)
//   THINK        the canned answer after streamed reasoning (REASONING_TEXT, as `reasoning_content`)
// Standalone: `bun test/support/stub-model.ts [port]` prints its URL.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createWaiters } from "./waiters.ts";

export const CANNED_ANSWER =
  "Hello from the stub model. This answer arrives in several chunks, so streaming can be checked end to end. Done.";
/** The reasoning a THINK prompt streams before its answer. */
export const REASONING_TEXT = "The person wants a greeting. I will say hello in a few chunks.";
/** The text a TOOL prompt ends with, once OpenCode has sent the tool result back. */
export const TOOL_FINAL_ANSWER = "The tool ran and the stub is done.";
/** The command the TOOL mode asks OpenCode to run. */
export const TOOL_COMMAND = "echo stub-tool-output";
export const SLOW_CHUNKS = 60;
export const SLOW_CHUNK_DELAY_MS = 500;

/** The pieces a SLOW answer streams (joined: its full text). */
export function slowAnswerChunks(n = SLOW_CHUNKS): string[] {
  return Array.from({ length: n }, (_, i) => `slow ${i + 1}. `);
}

/** The error message a FAILnnn prompt produces (OpenCode reports it as the APIError message). */
export function stubFailureMessage(status: number): string {
  return `stub model refused the request (magic word FAIL${status})`;
}

export type StubRequest = {
  method: string;
  path: string;
  /** Parsed JSON body (chat completions), or null. */
  body: any;
  /** Text of the last user message, "" when there is none. */
  lastUserText: string;
  stream: boolean;
  /** What the stub decided to do with it. */
  mode: "answer" | "echo" | "fail" | "hang" | "tool-call" | "tool-final" | "slow" | "title" | "other";
  receivedAt: number;
  /** The stub sent the whole response. */
  finished: boolean;
  /** When it was sent completely (ms since epoch). */
  finishedAt: number | null;
  /** The client closed the connection before the response was finished (e.g. an abort). */
  closedEarly: boolean;
};

export type StubModel = {
  /** Base URL including `/v1`, ready for an OpenAI-compatible provider's `baseURL`. */
  url: string;
  port: number;
  /** Every request received, in order. */
  requests: StubRequest[];
  /** Chat completion requests only, title-generation requests excluded. */
  completions(): StubRequest[];
  /** Resolves with the first recorded request matching `pred` (waits for it if needed). */
  waitForRequest(pred: (r: StubRequest) => boolean, timeoutMs?: number): Promise<StubRequest>;
  stop(): Promise<void>;
};

export type StubModelOptions = {
  port?: number;
  /** Delay between chunks of normal answers (default 30 ms). */
  chunkDelayMs?: number;
  /** Delay between chunks of SLOW answers (default 500 ms). */
  slowChunkDelayMs?: number;
  /** Number of chunks of SLOW answers (default 60). */
  slowChunks?: number;
  /**
   * Paces SLOW answers by the test instead of the clock: chunk `index` of the answer to
   * `request` is sent once this resolves (replaces slowChunkDelayMs), so a test can tie
   * chunks to what it observed, or hold an answer open until it has checked what it must.
   */
  slowChunkGate?: (index: number, request: StubRequest) => Promise<void>;
};

/** Splits text into `n` roughly equal pieces at word boundaries where possible. */
export function chunkText(text: string, n = 8): string[] {
  const words = text.split(/(?<= )/);
  const per = Math.max(1, Math.ceil(words.length / n));
  const out: string[] = [];
  for (let i = 0; i < words.length; i += per) out.push(words.slice(i, i + per).join(""));
  return out;
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((p) => (p && typeof p === "object" && typeof (p as any).text === "string" ? (p as any).text : "")).join("");
  }
  return "";
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startStubModel(opts: StubModelOptions = {}): Promise<StubModel> {
  const chunkDelayMs = opts.chunkDelayMs ?? 30;
  const slowDelayMs = opts.slowChunkDelayMs ?? SLOW_CHUNK_DELAY_MS;
  const requests: StubRequest[] = [];
  const waiters = createWaiters();
  const open = new Set<ServerResponse>();
  let counter = 0;

  const notify = waiters.notify;
  const finish = (r: StubRequest) => {
    r.finished = true;
    r.finishedAt = Date.now();
  };
  const mark = (r: StubRequest, mode: StubRequest["mode"]) => {
    r.mode = mode;
    notify();
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await new Promise<string>((resolve) => {
      let s = "";
      req.setEncoding("utf8");
      req.on("data", (d) => (s += d));
      req.on("end", () => resolve(s));
    });
    const path = (req.url ?? "/").split("?")[0]!;
    let body: any = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = null;
    }
    const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
    const lastUser = [...messages].reverse().find((m) => m?.role === "user");
    const system = messages.filter((m) => m?.role === "system").map((m) => contentText(m.content)).join("\n");
    const record: StubRequest = {
      method: req.method ?? "GET",
      path,
      body,
      lastUserText: contentText(lastUser?.content),
      stream: body?.stream === true,
      mode: "other",
      receivedAt: Date.now(),
      finished: false,
      finishedAt: null,
      closedEarly: false,
    };
    requests.push(record);
    open.add(res);
    // `req.on("close")` fires once the body is read; the response's close tells a client abort.
    res.on("close", () => {
      open.delete(res);
      if (!record.finished) record.closedEarly = true;
      notify();
    });
    notify();

    if (req.method === "GET" && path.endsWith("/models")) {
      finish(record);
      return json(res, 200, { object: "list", data: [{ id: "stub-model", object: "model", created: 0, owned_by: "stub" }] });
    }
    if (req.method !== "POST" || !path.endsWith("/chat/completions")) {
      finish(record);
      return json(res, 404, { error: { message: `stub: no route ${req.method} ${path}`, type: "not_found" } });
    }

    const text = record.lastUserText;
    const id = `chatcmpl-stub-${++counter}`;
    const echo = /ECHO:([\s\S]*)$/.exec(text);
    const fail = /FAIL(4\d\d)/.exec(text);
    if (/title generator/i.test(system)) {
      mark(record, "title");
      return answer(res, record, id, ["Stub title"], 0);
    }
    if (echo) {
      mark(record, "echo");
      return answer(res, record, id, chunkText(echo[1]!.trim(), 1_000), chunkDelayMs); // a chunk per word
    }
    if (fail) {
      mark(record, "fail");
      const status = Number(fail[1]);
      finish(record);
      return json(res, status, { error: { message: stubFailureMessage(status), type: "invalid_request_error", code: "stub_failure" } });
    }
    if (/\bHANG\b/.test(text)) {
      mark(record, "hang");
      if (record.stream) {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
        res.flushHeaders();
      }
      return; // never answers; closed by the client or by stop()
    }
    const toolCmd = /TOOLCMD:([^\n]*)/.exec(text);
    const toolJson = /TOOLJSON:(\S+) ([^\n]*)/.exec(text);
    if (toolCmd || toolJson || /\bTOOL\b/.test(text)) {
      const toolDone = messages.some((m) => m?.role === "tool");
      if (toolDone && /\bTHENHANG\b/.test(text)) {
        mark(record, "hang");
        if (record.stream) {
          res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
          res.flushHeaders();
        }
        return;
      }
      if (toolDone) {
        mark(record, "tool-final");
        return answer(res, record, id, chunkText(TOOL_FINAL_ANSWER, 3), chunkDelayMs);
      }
      mark(record, "tool-call");
      if (toolJson) return toolCall(res, record, id, "", { name: toolJson[1]!, args: toolJson[2]!.trim() });
      return toolCall(res, record, id, toolCmd ? toolCmd[1]!.trim() : TOOL_COMMAND);
    }
    if (/\bSLOW\b/.test(text)) {
      mark(record, "slow");
      const chunks = slowAnswerChunks(opts.slowChunks);
      const gate = opts.slowChunkGate;
      return answer(res, record, id, chunks, gate ? (i) => gate(i, record) : slowDelayMs);
    }
    mark(record, "answer");
    const thinking = /\bTHINK\b/.test(text) ? chunkText(REASONING_TEXT, 4) : [];
    return answer(res, record, id, chunkText(CANNED_ANSWER), chunkDelayMs, thinking);
  }

  function json(res: ServerResponse, status: number, value: unknown): void {
    const s = JSON.stringify(value);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(s) });
    res.end(s);
  }

  function chunk(id: string, delta: Record<string, unknown>, finish: string | null): string {
    const c = { id, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: "stub-model", choices: [{ index: 0, delta, finish_reason: finish }] };
    return `data: ${JSON.stringify(c)}\n\n`;
  }

  function usage(id: string): string {
    const u = { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 };
    return `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: "stub-model", choices: [], usage: u })}\n\n`;
  }

  /** A non-streaming chat.completion body with one choice. */
  function completion(id: string, message: Record<string, unknown>, finishReason: string) {
    return {
      id,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: "stub-model",
      choices: [{ index: 0, message, finish_reason: finishReason }],
    };
  }

  async function answer(
    res: ServerResponse,
    record: StubRequest,
    id: string,
    pieces: string[],
    pace: number | ((index: number) => Promise<void>),
    reasoning: string[] = [],
  ): Promise<void> {
    const body = record.body;
    if (!record.stream) {
      finish(record);
      return json(res, 200, {
        ...completion(id, { role: "assistant", content: pieces.join("") }, "stop"),
        usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 },
      });
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    res.write(chunk(id, { role: "assistant", content: "" }, null));
    for (const r of reasoning) {
      await sleep(chunkDelayMs);
      if (res.destroyed || res.writableEnded) return;
      res.write(chunk(id, { reasoning_content: r }, null));
    }
    for (const [i, p] of pieces.entries()) {
      await (typeof pace === "number" ? sleep(pace) : pace(i));
      if (res.destroyed || res.writableEnded) return;
      res.write(chunk(id, { content: p }, null));
    }
    if (res.destroyed) return;
    res.write(chunk(id, {}, "stop"));
    if (body?.stream_options?.include_usage) res.write(usage(id));
    res.write("data: [DONE]\n\n");
    finish(record);
    res.end();
    notify();
  }

  async function toolCall(res: ServerResponse, record: StubRequest, id: string, command: string, other?: { name: string; args: string }): Promise<void> {
    const args = other ? other.args : JSON.stringify({ command, description: "Run the stub's test command" });
    const call = { index: 0, id: `call_stub_${counter}`, type: "function", function: { name: other ? other.name : "bash", arguments: args } };
    if (!record.stream) {
      finish(record);
      return json(res, 200, completion(id, { role: "assistant", content: null, tool_calls: [call] }, "tool_calls"));
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    res.write(chunk(id, { role: "assistant", content: null, tool_calls: [call] }, null));
    await sleep(chunkDelayMs);
    if (res.destroyed) return;
    res.write(chunk(id, {}, "tool_calls"));
    if (record.body?.stream_options?.include_usage) res.write(usage(id));
    res.write("data: [DONE]\n\n");
    finish(record);
    res.end();
    notify();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) json(res, 500, { error: { message: String(err) } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  let stopped: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    completions: () => requests.filter((r) => r.path.endsWith("/chat/completions") && r.mode !== "title"),
    waitForRequest(pred, timeoutMs = 60_000) {
      return waiters.until(
        () => requests.find(pred),
        timeoutMs,
        () => new Error(`stub model: no matching request within ${timeoutMs} ms (got ${requests.length})`),
      );
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}

if ((import.meta as { main?: boolean }).main) {
  const stub = await startStubModel({ port: Number(process.argv[2] ?? 0) || 0 });
  console.log(stub.url);
  const bye = () => void stub.stop().then(() => process.exit(0));
  process.on("SIGINT", bye);
  process.on("SIGTERM", bye);
}
