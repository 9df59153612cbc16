// The worker's view of the backend: one ConvexClient (WebSocket) per worker, every call
// authenticated with the token's parts. The secret leaves the token object only here.
import { ConvexClient } from "convex/browser";
import type { WorkerToken } from "../config/token.ts";
import {
  workerApi,
  workerRequestsApi,
  type PartUpdate,
  type RequestContent,
  type RequestSettlement,
  type WorkerRequestView,
  type ClaimResult,
  type FinalOutcome,
  type ModelInfo,
  type PendingWork,
  type RegisterResult,
  type SelfView,
  type WorkerAuth,
  type RoutingInfo,
  type WorkerInfo,
} from "./api.ts";
import type { Logger } from "../util/log.ts";
import { convexLogger } from "./convex-logger.ts";
import { withTimeout } from "./errors.ts";
import { registerSecret } from "../util/redact.ts";
import { webSocketConstructor } from "../util/web-socket.ts";

/** How long one call may wait for the backend before the caller treats it as down. */
export const CALL_TIMEOUT_MS = 30_000;

export type ConnectionSnapshot = {
  connected: boolean;
  everConnected: boolean;
  connectionCount: number;
  retries: number;
  oldestInflightAt: number | null;
};

export type WorkerBackend = {
  register(instanceId: string, info: WorkerInfo, routing?: RoutingInfo): Promise<RegisterResult>;
  /** Resolves once a register call came back: from then on the backend knows this worker's instance. */
  readonly registered: Promise<void>;
  watchSelf(onView: (v: SelfView) => void, onError: (e: Error) => void): () => void;
  watchPendingWork(onWork: (w: PendingWork) => void, onError: (e: Error) => void): () => void;
  heartbeat(instanceId: string, draining: boolean, runningMessageIds: string[]): Promise<{ approval: string }>;
  goOffline(instanceId: string): Promise<void>;
  publishModels(models: ModelInfo[]): Promise<void>;
  claim(instanceId: string, messageId: string): Promise<ClaimResult>;
  appendOutput(instanceId: string, messageId: string, seq: number, text: string, parts?: PartUpdate[]): Promise<number>;
  finish(instanceId: string, messageId: string, outcome: FinalOutcome, reason?: string): Promise<void>;
  bindSession(sessionId: string, agentSessionId: string): Promise<void>;
  /** Raises a request on a message this process runs; the same agentRequestId again returns the stored one. */
  raiseRequest(instanceId: string, messageId: string, content: RequestContent, agentRequestId?: string): Promise<WorkerRequestView>;
  /** Requests a person answered that were not handed to OpenCode yet. */
  watchAnsweredRequests(onList: (l: WorkerRequestView[]) => void, onError: (e: Error) => void): () => void;
  settleRequest(requestId: string, outcome: RequestSettlement, reason?: string): Promise<WorkerRequestView>;
  connection(): ConnectionSnapshot;
  onConnectionChange(cb: (s: ConnectionSnapshot) => void): () => void;
  close(): Promise<void>;
};

export function connectWorkerBackend(url: string, token: WorkerToken, opts: { callTimeoutMs?: number; log?: Logger } = {}): WorkerBackend {
  const client = new ConvexClient(url, { unsavedChangesWarning: false, logger: convexLogger(opts.log), webSocketConstructor });
  const auth: WorkerAuth = { machineId: token.machineId, workerId: token.workerId, secret: token.revealSecret() };
  // The bare secret (no "secret_" prefix) can come back inside a server error that quotes the
  // arguments; masked wherever it would be printed or served.
  registerSecret(auth.secret);
  const timeout = opts.callTimeoutMs ?? CALL_TIMEOUT_MS;
  const call = <T>(p: Promise<T>, what: string) => withTimeout(p, timeout, what);
  const snapshot = (): ConnectionSnapshot => {
    const s = client.connectionState();
    return {
      connected: s.isWebSocketConnected,
      everConnected: s.hasEverConnected,
      connectionCount: s.connectionCount,
      retries: s.connectionRetries,
      oldestInflightAt: s.timeOfOldestInflightRequest ? s.timeOfOldestInflightRequest.getTime() : null,
    };
  };

  let markRegistered!: () => void;
  const registered = new Promise<void>((resolve) => (markRegistered = resolve));

  return {
    register: async (instanceId, info, routing) => {
      const result = await call(client.mutation(workerApi.register, { auth, instanceId, info, ...(routing ? { routing } : {}) }), "register");
      markRegistered();
      return result;
    },
    registered,
    watchSelf(onView, onError) {
      const unsub = client.onUpdate(workerApi.self, { auth }, onView, onError);
      return () => unsub();
    },
    watchPendingWork(onWork, onError) {
      const unsub = client.onUpdate(workerApi.pendingWork, { auth }, onWork, onError);
      return () => unsub();
    },
    heartbeat: (instanceId, draining, runningMessageIds) =>
      call(client.mutation(workerApi.heartbeat, { auth, instanceId, draining, runningMessageIds }), "heartbeat"),
    goOffline: async (instanceId) => {
      await call(client.mutation(workerApi.goOffline, { auth, instanceId }), "go offline");
    },
    publishModels: async (models) => {
      await call(client.mutation(workerApi.publishModels, { auth, models }), "publish models");
    },
    claim: (instanceId, messageId) => call(client.mutation(workerApi.claim, { auth, instanceId, messageId }), "claim"),
    appendOutput: async (instanceId, messageId, seq, text, parts) =>
      (await call(client.mutation(workerApi.appendOutput, { auth, instanceId, messageId, seq, text, ...(parts?.length ? { parts } : {}) }), "append output"))
        .nextSeq,
    finish: async (instanceId, messageId, outcome, reason) => {
      await call(
        client.mutation(workerApi.finish, { auth, instanceId, messageId, outcome, ...(reason !== undefined ? { reason } : {}) }),
        "finish message",
      );
    },
    bindSession: async (sessionId, agentSessionId) => {
      await call(client.mutation(workerApi.bindSession, { auth, sessionId, agentSessionId }), "bind session");
    },
    raiseRequest: (instanceId, messageId, content, agentRequestId) =>
      call(
        client.mutation(workerRequestsApi.raise, { auth, instanceId, messageId, ...content, ...(agentRequestId !== undefined ? { agentRequestId } : {}) }),
        "raise request",
      ),
    watchAnsweredRequests(onList, onError) {
      const unsub = client.onUpdate(workerRequestsApi.answered, { auth }, onList, onError);
      return () => unsub();
    },
    settleRequest: (requestId, outcome, reason) =>
      call(client.mutation(workerRequestsApi.settle, { auth, requestId, outcome, ...(reason !== undefined ? { reason } : {}) }), "settle request"),
    connection: snapshot,
    onConnectionChange(cb) {
      return client.subscribeToConnectionState(() => cb(snapshot()));
    },
    close: () => client.close(),
  };
}
