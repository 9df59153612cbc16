// One SSE connection per OpenCode server, shared by every turn running on it. Hand-written
// instead of the SDK's subscriber because we need what it lacks: an explicit "connected"
// moment to prompt after (its generator connects lazily), reconnection only while the server
// lives (it retries forever by default), and a watchdog for half-open connections.
import type { Event } from "@opencode-ai/sdk/v2/client";
import type { Logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";

export type AgentEvent = Event;

export type EventStreamOptions = {
  url: string;
  directory: string;
  authorization: string;
  log: Logger;
  /** Reconnect only while this is true (the server process is alive). */
  alive: () => boolean;
  onEvent: (ev: AgentEvent) => void;
  /** After a reconnect's `server.connected`: events were possibly missed in between. */
  onReconnected: () => void;
  /** No bytes for this long → reconnect (OpenCode sends a heartbeat about every 10 s). */
  staleAfterMs?: number;
};

export type EventStream = {
  /** Resolves at the first `server.connected`; rejects if the stream ends before it. */
  ready: Promise<void>;
  close(): void;
};

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

/** `ready` and whether it has been settled: the first `server.connected` resolves it. */
type ReadyGate = { promise: Promise<void>; connected: boolean; resolve(): void; reject(e: Error): void };

function readyGate(): ReadyGate {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // observed by startAgent; avoid an unhandled rejection if nobody waits
  return { promise, connected: false, resolve, reject };
}

export function openEventStream(opts: EventStreamOptions): EventStream {
  const closing = new AbortController();
  const gate = readyGate();
  void keepReading(opts, closing.signal, gate);
  return {
    ready: gate.promise,
    close: () => closing.abort(),
  };
}

/** Reads the stream, reconnecting with backoff while the server lives and nobody closed it. */
async function keepReading(opts: EventStreamOptions, closing: AbortSignal, gate: ReadyGate): Promise<void> {
  let delay = 100;
  while (!closing.aborted) {
    const startedAt = Date.now();
    try {
      await readOnce(opts, closing, (raw) => dispatch(opts, gate, raw));
      if (!closing.aborted) opts.log.debug("OpenCode event stream ended");
    } catch (err) {
      if (!closing.aborted) opts.log.debug("OpenCode event stream failed", { error: errorMessage(err) });
    }
    if (closing.aborted || !opts.alive()) break;
    // A connection that lived a while resets the backoff.
    if (Date.now() - startedAt > 10_000) delay = 100;
    await sleep(delay, closing);
    delay = Math.min(delay * 2, 2_000);
  }
  if (!gate.connected) gate.reject(new Error("the OpenCode event stream closed before it connected"));
}

/** One connection: until it ends, fails, goes quiet (watchdog) or the stream is closed. */
async function readOnce(opts: EventStreamOptions, closing: AbortSignal, onData: (raw: string) => void): Promise<void> {
  const staleAfterMs = opts.staleAfterMs ?? 30_000;
  const conn = new AbortController();
  const abortConn = () => conn.abort();
  closing.addEventListener("abort", abortConn, { once: true });
  let lastByte = Date.now();
  const watchdog = setInterval(() => {
    if (Date.now() - lastByte > staleAfterMs) {
      opts.log.debug("OpenCode event stream went quiet; reconnecting");
      conn.abort();
    }
  }, Math.min(5_000, staleAfterMs));
  try {
    const u = new URL("/event", opts.url);
    u.searchParams.set("directory", opts.directory);
    const res = await fetch(u, {
      headers: { authorization: opts.authorization, accept: "text/event-stream" },
      signal: conn.signal,
    });
    if (!res.ok || !res.body) throw new Error(`GET /event → HTTP ${res.status}`);
    await readSse(res.body.getReader(), onData, () => void (lastByte = Date.now()));
  } finally {
    clearInterval(watchdog);
    closing.removeEventListener("abort", abortConn);
  }
}

/** Splits a server-sent-events body into its events' `data` and hands each one on. */
async function readSse(reader: ReadableStreamDefaultReader<Uint8Array>, onData: (raw: string) => void, onBytes: () => void): Promise<void> {
  const decoder = new TextDecoder();
  let buf = "";
  let data: string[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    onBytes();
    buf += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      let line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") {
        if (data.length) onData(data.join("\n"));
        data = [];
      } else if (line.startsWith("data:")) {
        data.push(line.slice(line[5] === " " ? 6 : 5));
      }
      // `event:`, `id:`, `retry:` and comments: OpenCode sends none we need.
    }
  }
}

/** One event: `server.connected` opens the gate (or says we reconnected), the rest go to onEvent. */
function dispatch(opts: EventStreamOptions, gate: ReadyGate, raw: string): void {
  let ev: AgentEvent;
  try {
    ev = JSON.parse(raw);
  } catch {
    opts.log.debug("ignoring an unreadable OpenCode event", { raw: raw.slice(0, 200) });
    return;
  }
  if (ev?.type === "server.connected") {
    if (!gate.connected) {
      gate.connected = true;
      gate.resolve();
    } else {
      opts.log.debug("OpenCode event stream reconnected");
      opts.onReconnected();
    }
    return;
  }
  try {
    opts.onEvent(ev);
  } catch (err) {
    opts.log.error("handling an OpenCode event failed", { type: ev?.type, error: errorMessage(err) });
  }
}
