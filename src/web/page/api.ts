// Talking to the page's own server: JSON calls and the live event stream.
import type { AddWorkerResult, ChatMessageView, SessionSummary, WorkerListEntry } from "../../backend/api.ts";
import type { RequestReply, RequestStatus } from "../../backend/api.ts";
import type { SessionEvent } from "../session-cursor.ts";

export class NotLoggedIn extends Error {}

export type WorkersPayload = { workers: WorkerListEntry[]; now: number };
/** A worker made from the page: its token (shown once) and the backend URL it connects to. */
export type AddedWorker = AddWorkerResult & { convexUrl: string };

async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (await res.json().catch(() => ({}))) as { error?: string };
  if (res.status === 401) throw new NotLoggedIn(data.error ?? "not logged in");
  if (!res.ok) throw new Error(data.error ?? `the server answered ${res.status}`);
  return data as T;
}

export const api = {
  login: (token: string) => call<{ ok: true }>("POST", "/api/login", { token }),
  loggedIn: () => call<{ ok: true }>("GET", "/api/session"),
  workers: () => call<WorkersPayload>("GET", "/api/workers"),
  addWorker: (machine: string, name: string) => call<AddedWorker>("POST", "/api/workers", { machine, name }),
  workerAction: (worker: string, action: "approve" | "revoke" | "pause" | "resume") =>
    call<WorkersPayload>("POST", `/api/workers/${encodeURIComponent(worker)}/${action}`, {}),
  newSession: (worker: string, text: string, model?: string) =>
    call<{ sessionId: string; title: string; messageId: string }>("POST", "/api/sessions", { worker, text, model }),
  messages: (session: string, worker: string) =>
    call<{ messages: ChatMessageView[] }>("GET", `/api/sessions/${encodeURIComponent(session)}?worker=${encodeURIComponent(worker)}`),
  send: (session: string, worker: string, text: string, model?: string) =>
    call<{ messageId: string }>("POST", `/api/sessions/${encodeURIComponent(session)}/messages`, { worker, text, model }),
  reply: (requestId: string, worker: string, reply: RequestReply, extra: { message?: string; answers?: string[][] }) =>
    call<{ status: RequestStatus }>("POST", `/api/requests/${encodeURIComponent(requestId)}/reply`, { worker, reply, ...extra }),
  cancel: (messageId: string, worker: string) => call<{ status: string }>("POST", `/api/messages/${encodeURIComponent(messageId)}/cancel`, { worker }),
};

export type LiveHandlers = {
  workers(p: WorkersPayload): void;
  session(e: SessionEvent): void;
  sessions(p: { worker: string; sessions: SessionSummary[] }): void;
  failure(message: string): void;
  connected(up: boolean): void;
  /** The stream ended for good (e.g. logged out): the caller decides whether to reopen. */
  closed(): void;
};

const SESSION_EVENTS = ["message", "delta", "status", "reset", "parts", "requests"] as const;

/**
 * One live stream for the tab. EventSource reconnects by itself and sends Last-Event-ID, so
 * the server resumes exactly after what arrived; it closes only on an HTTP error.
 */
export function openLive(o: { session?: string; worker?: string }, h: LiveHandlers): () => void {
  const q = new URLSearchParams();
  // The worker alone (no session) still streams its session list.
  if (o.session) q.set("session", o.session);
  if (o.worker) q.set("worker", o.worker);
  const es = new EventSource(`/api/events?${q}`);
  es.addEventListener("open", () => h.connected(true));
  es.addEventListener("workers", (e) => h.workers(JSON.parse((e as MessageEvent<string>).data) as WorkersPayload));
  for (const t of SESSION_EVENTS) es.addEventListener(t, (e) => h.session(JSON.parse((e as MessageEvent<string>).data) as SessionEvent));
  es.addEventListener("sessions", (e) => h.sessions(JSON.parse((e as MessageEvent<string>).data) as { worker: string; sessions: SessionSummary[] }));
  es.addEventListener("failure", (e) => h.failure((JSON.parse((e as MessageEvent<string>).data) as { error: string }).error));
  es.addEventListener("error", () => {
    h.connected(false);
    if (es.readyState === EventSource.CLOSED) h.closed();
  });
  return () => es.close();
}
