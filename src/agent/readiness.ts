// When a freshly spawned OpenCode can take turns: 1. it printed the URL it listens on, 2. its
// health endpoint answers, 3. our event stream is connected (a prompt sent earlier would lose
// its first events). All three within one deadline; the process may exit at any point.
import { errorMessage } from "../util/errors.ts";
import { openEventStream, type EventStream, type EventStreamOptions } from "./events.ts";

export type AgentExit = { code: number | null; signal: string | null };

/** Why the server is not serving; startAgent stops it and reports this with its output. */
export class NotServing extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "NotServing";
  }
}

export function describeExit(e: AgentExit): string {
  return e.code !== null ? `exit code ${e.code}` : `signal ${e.signal}`;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;
/** Longest single health request; it is retried until the deadline. */
const HEALTH_REQUEST_MS = 5_000;
const HEALTH_RETRY_MS = 100;

export async function waitUntilServing(o: {
  url: Promise<string>;
  exited: Promise<AgentExit>;
  /** The exit, once it happened. */
  exit: () => AgentExit | null;
  timeoutMs: number;
  authorization: string;
  /** The event stream's options other than its URL. */
  stream: Omit<EventStreamOptions, "url">;
  /** The stream as soon as it opens, so a stop during start-up can close it. */
  onStream: (s: EventStream) => void;
}): Promise<{ url: string; stream: EventStream }> {
  const deadline = Date.now() + o.timeoutMs;
  const remaining = () => Math.max(0, deadline - Date.now());
  const within = `within ${seconds(o.timeoutMs)} s`;

  const first = await Promise.race([o.url, o.exited, timeout(remaining())]);
  if (first === "timeout") throw new NotServing(`OpenCode did not start ${within}`);
  if (typeof first !== "string") throw new NotServing(`OpenCode exited before it was ready (${describeExit(first)})`);
  const url = first.replace(/\/$/, "");

  const health = await waitHealthy(url, o.authorization, remaining, o.exit);
  const exit = o.exit();
  if (exit) throw new NotServing(`OpenCode exited before it was ready (${describeExit(exit)})`);
  if (!health.ok) throw new NotServing(`OpenCode did not become healthy ${within}: ${errorMessage(health.error)}`, health.error);

  const stream = openEventStream({ ...o.stream, url });
  o.onStream(stream);
  const connected = await Promise.race([stream.ready.then(() => "ok" as const, (e: unknown) => e), o.exited, timeout(remaining())]);
  if (connected === "timeout") throw new NotServing(`OpenCode's event stream did not connect ${within}`);
  const exitNow = o.exit();
  if (exitNow) throw new NotServing(`OpenCode exited before it was ready (${describeExit(exitNow)})`);
  if (connected !== "ok") throw new NotServing(`OpenCode's event stream failed: ${errorMessage(connected)}`);
  return { url, stream };
}

async function waitHealthy(url: string, authorization: string, remaining: () => number, exit: () => AgentExit | null): Promise<{ ok: boolean; error: unknown }> {
  let error: unknown = null;
  while (remaining() > 0 && !exit()) {
    try {
      const res = await fetch(`${url}/global/health`, { headers: { authorization }, signal: AbortSignal.timeout(Math.max(1, Math.min(HEALTH_REQUEST_MS, remaining()))) });
      if (res.ok) return { ok: true, error: null };
      error = new Error(`HTTP ${res.status}`);
    } catch (err) {
      error = err;
    }
    await new Promise((r) => setTimeout(r, HEALTH_RETRY_MS));
  }
  return { ok: false, error };
}

function timeout(ms: number): Promise<"timeout"> {
  return new Promise((res) => setTimeout(() => res("timeout"), ms).unref?.());
}
