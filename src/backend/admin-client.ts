// The person-side client: internal functions called with the deployment's admin key, the
// way `npx convex run` does, so it works against the embedded backend and real Convex alike.
// One-shot calls go over HTTP with a deadline; live updates over a socket (admin-live.ts).
import { ConvexHttpClient } from "convex/browser";
import { getFunctionName, type FunctionReference } from "convex/server";
import { RuntimeFailure } from "../util/errors.ts";
import { adminApi, chatApi, requestsApi, type RequestReply } from "./api.ts";
import { adminFailure, BackendNoAnswer } from "./admin-errors.ts";
import { adminLive } from "./admin-live.ts";
import { convexLogger } from "./convex-logger.ts";

export { adminFailure, BackendNoAnswer, BackendRefused } from "./admin-errors.ts";

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
    listRequests: (messageId: string, worker?: string) => call(requestsApi.list, { messageId, ...(worker ? { worker } : {}) }),
    pendingRequests: (worker?: string) => call(requestsApi.pending, worker ? { worker } : {}),
    /** Answers a request once; a second answer is refused with ALREADY_ANSWERED (BackendRefused). */
    reply: (requestId: string, reply: RequestReply, opts: { message?: string; answers?: string[][]; worker?: string } = {}) =>
      call(requestsApi.reply, { requestId, reply, ...opts }),
    /** The per-call deadline, for callers that wait on the socket themselves. */
    timeoutMs,
    ...adminLive(url, adminKey),
  };
}
