// Server-sent events for one browser tab: the worker list whenever it changes, the open
// worker's sessions, and the open session's new messages, text deltas, status changes, parts
// and requests (see session-stream.ts and session-cursor.ts).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AdminClient } from "../backend/admin-client.ts";
import type { WorkerListEntry } from "../backend/api.ts";
import { decodeCursor } from "./session-cursor.ts";
import { sessionStream } from "./session-stream.ts";

/** A comment line this often keeps proxies from closing an idle stream and finds dead peers. */
export const SSE_KEEPALIVE_MS = 15_000;
/** How soon EventSource reconnects after a drop. */
export const SSE_RETRY_MS = 1_000;

export function workersPayload(list: WorkerListEntry[]) {
  return { workers: list, now: Date.now() };
}

export function serveEvents(req: IncomingMessage, res: ServerResponse, admin: AdminClient, url: URL): () => void {
  res.writeHead(200, {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-store",
    Connection: "keep-alive",
    "X-Accel-Buffering": "no",
  });
  res.write(`retry: ${SSE_RETRY_MS}\n\n`);
  const send = (event: string, data: unknown, id?: string) => {
    res.write(`${id !== undefined ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const releases: (() => void)[] = [];
  const release = () => {
    for (const r of releases.splice(0).reverse()) r();
  };

  let lastWorkers = "";
  releases.push(
    admin.watchWorkers(
      (list) => {
        const text = JSON.stringify(list);
        if (text === lastWorkers) return;
        lastWorkers = text;
        send("workers", workersPayload(list));
      },
      (e) => send("failure", { error: e.message }),
    ),
  );

  const worker = url.searchParams.get("worker") ?? undefined;
  const failure = (e: Error) => send("failure", { error: e.message });
  if (worker) {
    let lastSessions = "";
    releases.push(
      admin.watchSessions(
        worker,
        (list) => {
          const text = JSON.stringify(list);
          if (text === lastSessions) return;
          lastSessions = text;
          send("sessions", { worker, sessions: list });
        },
        failure,
      ),
    );
  }

  const sessionId = url.searchParams.get("session");
  if (sessionId) {
    const lastId = req.headers["last-event-id"];
    const stream = sessionStream(admin, worker, decodeCursor(typeof lastId === "string" ? lastId : undefined), (e, id) => send(e.type, e, id));
    releases.push(() => stream.close());
    releases.push(admin.watchSession(sessionId, worker, (views) => stream.update(views, failure), failure));
  }

  const keepalive = setInterval(() => res.write(": keepalive\n\n"), SSE_KEEPALIVE_MS);
  releases.push(() => clearInterval(keepalive));
  res.on("close", release);
  return () => {
    release();
    res.end();
  };
}
