// The person-side client: internal functions called with the deployment's admin key, the
// way `npx convex run` does, so it works against the embedded backend and real Convex alike.
import { ConvexClient, ConvexHttpClient, type ConnectionState } from "convex/browser";
import { getFunctionName, type FunctionReference } from "convex/server";
import { errorMessage, RuntimeFailure } from "../util/errors.ts";
import {
  adminApi,
  chatApi,
  requestsApi,
  sessionsApi,
  type ChatMessageView,
  type RequestReply,
  type RequestView,
  type SessionSummary,
  type WorkerListEntry,
  type WorkerSummary,
} from "./api.ts";
import { convexLogger } from "./convex-logger.ts";
import { backendErrorCode, backendErrorMessage } from "./errors.ts";

/** The backend answered and refused (a ConvexError with a code: NOT_FOUND, INVALID, …). */
export class BackendRefused extends RuntimeFailure {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** The backend did not connect or answer within the person's timeout. */
export class BackendNoAnswer extends RuntimeFailure {
  constructor(url: string, ms: number) {
    super(`the backend at ${url} did not answer within ${formatSeconds(ms)}`, {
      hint: "Is the URL right and the backend running? A slow link may need a longer --timeout SECONDS.",
    });
  }
}

const formatSeconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

/** No answer of a person-side function comes near this; a bigger one is not our backend's. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

async function readCapped(res: Response, url: string): Promise<ArrayBuffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  if (!reader) return new ArrayBuffer(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new RuntimeFailure(`the backend at ${url} sent an answer larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MB`, {
        hint: "Is --url / CONVEX_URL the orchestrator's backend?",
      });
    }
    chunks.push(value);
  }
  const all = Buffer.concat(chunks);
  return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
}

/** fetch with a deadline covering connect and the whole answer, so no call waits for ever. */
function fetchWithDeadline(url: string, ms: number): typeof globalThis.fetch {
  const timed = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const signal = AbortSignal.timeout(ms);
    try {
      const res = await fetch(input, { ...init, signal });
      // The body is read by the caller; read it here so a server that sends headers and then
      // stalls is cut off by the same deadline, and one that sends without end by a size cap.
      const body = await readCapped(res, url);
      return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    } catch (e) {
      if (signal.aborted) throw new BackendNoAnswer(url, ms);
      throw e;
    }
  };
  return timed as typeof globalThis.fetch;
}

type AnyRef = FunctionReference<"query" | "mutation" | "action", "public" | "internal">;
type Args<F> = F extends FunctionReference<any, any, infer A, any> ? A : never;
type Result<F> = F extends FunctionReference<any, any, any, infer R> ? R : never;

/** Turns transport and key failures into messages a person can act on. */
export function adminFailure(url: string, e: unknown): RuntimeFailure {
  if (e instanceof RuntimeFailure) return e;
  const text = errorMessage(e);
  if (/ECONNREFUSED|fetch failed|Unable to connect|ENOTFOUND|EAI_AGAIN|ConnectionRefused|socket/i.test(text)) {
    return new RuntimeFailure(`cannot reach the backend at ${url}`, {
      hint: "Is it running? Start the embedded one with `opencode-orchestrator backend`, or check --url / CONVEX_URL.",
    });
  }
  if (/admin key|BadAdminKey|Unauthenticated|401|403|Forbidden/i.test(text) && !backendErrorCode(e)) {
    return new RuntimeFailure(`the backend at ${url} rejected the admin key`, {
      hint: "Use the CONVEX_ADMIN_KEY printed by `opencode-orchestrator backend` (or your deployment's deploy key).",
    });
  }
  if (/Could not find (public )?function|No such function/i.test(text)) {
    return new RuntimeFailure(`the backend at ${url} does not have this orchestrator's functions`, {
      hint: "Deploy them with `npx convex deploy` from this project (see README).",
    });
  }
  const code = backendErrorCode(e);
  return code ? new BackendRefused(backendErrorMessage(e), code) : new RuntimeFailure(backendErrorMessage(e));
}

export type AdminClient = ReturnType<typeof connectAdmin>;

export type AdminClientOptions = {
  /** Deadline for each call to connect and answer; none when absent (the CLI always sets one). */
  timeoutMs?: number;
};

export function connectAdmin(url: string, adminKey: string, opts: AdminClientOptions = {}) {
  const timeoutMs = opts.timeoutMs;
  // setAdminAuth and `function` are how admin tools (npx convex run) reach internal
  // functions; they are marked internal in the typings, so they are reached through a cast.
  const callAny = new ConvexHttpClient(url, { logger: convexLogger(), ...(timeoutMs ? { fetch: fetchWithDeadline(url, timeoutMs) } : {}) }) as unknown as {
    setAdminAuth(key: string): void;
    function(name: string, componentPath: string | undefined, args: unknown): Promise<unknown>;
  };
  callAny.setAdminAuth(adminKey);
  async function call<F extends AnyRef>(ref: F, args: Args<F>): Promise<Result<F>> {
    try {
      return (await callAny.function(getFunctionName(ref), undefined, args)) as Result<F>;
    } catch (e) {
      throw adminFailure(url, e);
    }
  }
  let ws: ConvexClient | null = null;
  const socket = () => {
    if (!ws) {
      ws = new ConvexClient(url, { unsavedChangesWarning: false, logger: convexLogger() });
      (ws as unknown as { setAdminAuth(k: string): void }).setAdminAuth(adminKey);
    }
    return ws;
  };

  return {
    /** The backend's URL, for lines a person copies (a new worker's CONVEX_URL). */
    url,
    addWorker: (machineName: string, workerName?: string) =>
      call(adminApi.addWorker, { machineName, ...(workerName ? { workerName } : {}) }),
    approve: (worker: string) => call(adminApi.approve, { worker }),
    revoke: (worker: string) => call(adminApi.revoke, { worker }),
    setPaused: (worker: string, paused: boolean) => call(adminApi.setPaused, { worker, paused }),
    list: () => call(adminApi.list, {}),
    createSession: (worker: string, title?: string) => call(chatApi.createSession, { worker, ...(title ? { title } : {}) }),
    /** A session for any worker with every tag: routed when a prompt is sent to it. */
    createSessionForTags: (tags: string[], title?: string) => call(chatApi.createSession, { tags, ...(title ? { title } : {}) }),
    // `worker`, when given, must own the session or message: the backend refuses with WRONG_WORKER.
    send: (sessionId: string, text: string, worker?: string, model?: string) =>
      call(chatApi.send, { sessionId, text, ...(worker ? { worker } : {}), ...(model ? { model } : {}) }),
    cancel: (messageId: string, worker?: string) => call(chatApi.cancel, { messageId, ...(worker ? { worker } : {}) }),
    message: (messageId: string) => call(chatApi.message, { messageId }),
    messages: (sessionId: string, worker?: string) => call(chatApi.messages, { sessionId, ...(worker ? { worker } : {}) }),
    /**
     * Over the live-update socket, like watchMessage: a reader following an answer waits
     * through a dropped connection instead of failing its call.
     */
    parts: (messageId: string, afterSeq: number) => socket().query(chatApi.parts, { messageId, afterSeq }).catch((e: unknown) => Promise.reject(adminFailure(url, e))),
    messageLive: (messageId: string) => socket().query(chatApi.message, { messageId }).catch((e: unknown) => Promise.reject(adminFailure(url, e))),
    /** Live updates of one message over the WebSocket (for streaming an answer). */
    watchMessage(messageId: string, onView: (v: ChatMessageView | null) => void, onError: (e: Error) => void, worker?: string): () => void {
      const unsub = socket().onUpdate(chatApi.message, { messageId, ...(worker ? { worker } : {}) }, onView, (e) => onError(adminFailure(url, e)));
      return () => unsub();
    },
    listRequests: (messageId: string, worker?: string) => call(requestsApi.list, { messageId, ...(worker ? { worker } : {}) }),
    pendingRequests: (worker?: string) => call(requestsApi.pending, worker ? { worker } : {}),
    /** Answers a request once; a second answer is refused with ALREADY_ANSWERED (BackendRefused). */
    reply: (requestId: string, reply: RequestReply, opts: { message?: string; answers?: string[][]; worker?: string } = {}) =>
      call(requestsApi.reply, { requestId, reply, ...opts }),
    /** Live updates of one answer's requests (a follower re-reads when pendingRequests changes, or watches). */
    watchRequests(messageId: string, onList: (l: RequestView[]) => void, onError: (e: Error) => void): () => void {
      const unsub = socket().onUpdate(requestsApi.list, { messageId }, onList, (e) => onError(adminFailure(url, e)));
      return () => unsub();
    },
    /** The per-call deadline, for callers that wait on the socket themselves. */
    timeoutMs,
    /** Live updates of the worker list (the web page). */
    watchWorkers(onList: (v: WorkerListEntry[]) => void, onError: (e: Error) => void): () => void {
      const unsub = socket().onUpdate(adminApi.list, {}, onList, (e) => onError(adminFailure(url, e)));
      return () => unsub();
    },
    /** Live updates of a session's latest messages; `worker`, when given, must own it. */
    watchSession(sessionId: string, worker: string | undefined, onViews: (v: ChatMessageView[]) => void, onError: (e: Error) => void): () => void {
      const args = { sessionId, ...(worker ? { worker } : {}) };
      const unsub = socket().onUpdate(chatApi.messages, args, onViews, (e) => onError(adminFailure(url, e)));
      return () => unsub();
    },
    /** Live updates of a worker's sessions, most recently used first (the web page). */
    watchSessions(worker: string, onList: (v: SessionSummary[]) => void, onError: (e: Error) => void): () => void {
      const unsub = socket().onUpdate(sessionsApi.list, { worker }, onList, (e) => onError(adminFailure(url, e)));
      return () => unsub();
    },
    /** Connection changes of the live-update socket: `connected` false while it reconnects. */
    watchConnection(cb: (connected: boolean) => void): () => void {
      let last: boolean | undefined;
      const report = (state: ConnectionState) => {
        // Only the open/closed edge matters to a person, not every in-flight counter change.
        if (!state.hasEverConnected || state.isWebSocketConnected === last) return;
        last = state.isWebSocketConnected;
        cb(last);
      };
      const stop = socket().subscribeToConnectionState(report);
      // The client tells only of changes: a socket that is already open (an earlier answer of
      // the same interactive chat opened it) would otherwise never be reported as open.
      report(socket().connectionState());
      return stop;
    },
    async close(): Promise<void> {
      if (ws) await ws.close();
      ws = null;
    },
  };
}
