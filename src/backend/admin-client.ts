// The person-side client: internal functions called with the deployment's admin key, the
// way `npx convex run` does, so it works against the embedded backend and real Convex alike.
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { getFunctionName, type FunctionReference } from "convex/server";
import { RuntimeFailure } from "../util/errors.ts";
import { adminApi, chatApi, type ChatMessageView, type WorkerSummary } from "./api.ts";
import { convexLogger } from "./convex-logger.ts";
import { backendErrorCode, backendErrorMessage } from "./errors.ts";

type AnyRef = FunctionReference<"query" | "mutation" | "action", "public" | "internal">;
type Args<F> = F extends FunctionReference<any, any, infer A, any> ? A : never;
type Result<F> = F extends FunctionReference<any, any, any, infer R> ? R : never;

/** Turns transport and key failures into messages a person can act on. */
export function adminFailure(url: string, e: unknown): RuntimeFailure {
  const text = e instanceof Error ? e.message : String(e);
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
  return new RuntimeFailure(backendErrorMessage(e));
}

export type AdminClient = ReturnType<typeof connectAdmin>;

export function connectAdmin(url: string, adminKey: string) {
  // setAdminAuth and `function` are how admin tools (npx convex run) reach internal
  // functions; they are marked internal in the typings, so they are reached through a cast.
  const callAny = new ConvexHttpClient(url, { logger: convexLogger() }) as unknown as {
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
    addWorker: (machineName: string, workerName?: string) =>
      call(adminApi.addWorker, { machineName, ...(workerName ? { workerName } : {}) }),
    approve: (worker: string) => call(adminApi.approve, { worker }),
    revoke: (worker: string) => call(adminApi.revoke, { worker }),
    setPaused: (worker: string, paused: boolean) => call(adminApi.setPaused, { worker, paused }),
    list: () => call(adminApi.list, {}),
    createSession: (worker: string, title?: string) => call(chatApi.createSession, { worker, ...(title ? { title } : {}) }),
    send: (sessionId: string, text: string, worker?: string) => call(chatApi.send, { sessionId, text, ...(worker ? { worker } : {}) }),
    cancel: (messageId: string, worker?: string) => call(chatApi.cancel, { messageId, ...(worker ? { worker } : {}) }),
    message: (messageId: string) => call(chatApi.message, { messageId }),
    messages: (sessionId: string, worker?: string) => call(chatApi.messages, { sessionId, ...(worker ? { worker } : {}) }),
    /** Live updates of one message over the WebSocket (for streaming an answer). */
    watchMessage(messageId: string, onView: (v: ChatMessageView | null) => void, onError: (e: Error) => void): () => void {
      const unsub = socket().onUpdate(chatApi.message, { messageId }, onView, (e) => onError(adminFailure(url, e)));
      return () => unsub();
    },
    /** Live updates of the worker list (the web page). */
    watchWorkers(onList: (v: WorkerSummary[]) => void, onError: (e: Error) => void): () => void {
      const unsub = socket().onUpdate(adminApi.list, {}, onList, (e) => onError(adminFailure(url, e)));
      return () => unsub();
    },
    /** Live updates of a session's latest messages; `worker`, when given, must own it. */
    watchSession(sessionId: string, worker: string | undefined, onViews: (v: ChatMessageView[]) => void, onError: (e: Error) => void): () => void {
      const args = { sessionId, ...(worker ? { worker } : {}) };
      const unsub = socket().onUpdate(chatApi.messages, args, onViews, (e) => onError(adminFailure(url, e)));
      return () => unsub();
    },
    /** Connection changes of the live-update socket: `connected` false while it reconnects. */
    watchConnection(cb: (connected: boolean) => void): () => void {
      let last: boolean | undefined;
      return socket().subscribeToConnectionState((state) => {
        // Only the open/closed edge matters to a person, not every in-flight counter change.
        if (!state.hasEverConnected || state.isWebSocketConnected === last) return;
        last = state.isWebSocketConnected;
        cb(last);
      });
    },
    async close(): Promise<void> {
      if (ws) await ws.close();
      ws = null;
    },
  };
}
