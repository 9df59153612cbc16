// The person-side client's live-update socket: subscriptions for the web page and the chat
// that follow an answer, a worker list or a session as it changes, and reads that wait through
// a dropped connection instead of failing. Opened on first use: one-shot commands never pay for it.
import { ConvexClient, type ConnectionState } from "convex/browser";
import { adminApi, chatApi, requestsApi, sessionsApi, type ChatMessageView, type RequestView, type SessionSummary, type WorkerListEntry } from "./api.ts";
import { adminFailure } from "./admin-errors.ts";
import { convexLogger } from "./convex-logger.ts";
import { webSocketConstructor } from "../util/web-socket.ts";

export function adminLive(url: string, adminKey: string) {
  let ws: ConvexClient | null = null;
  const socket = () => {
    if (!ws) {
      ws = new ConvexClient(url, { unsavedChangesWarning: false, logger: convexLogger(), webSocketConstructor });
      // Internal in the typings, like the HTTP client's: how admin tools authenticate.
      (ws as unknown as { setAdminAuth(k: string): void }).setAdminAuth(adminKey);
    }
    return ws;
  };

  return {
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
    /** Live updates of one answer's requests (a follower re-reads when pendingRequests changes, or watches). */
    watchRequests(messageId: string, onList: (l: RequestView[]) => void, onError: (e: Error) => void): () => void {
      const unsub = socket().onUpdate(requestsApi.list, { messageId }, onList, (e) => onError(adminFailure(url, e)));
      return () => unsub();
    },
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
