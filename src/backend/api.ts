// Typed references to the functions in convex/. Hand-written instead of generated code so
// the repo builds and tests without a Convex deployment; convex/ implements exactly these.
import { makeFunctionReference } from "convex/server";

/** How a worker proves who it is on every call: the three parts of its token. */
export type WorkerAuth = { machineId: string; workerId: string; secret: string };

export type Approval = "pending" | "approved" | "revoked";
export type WorkerStatus = "offline" | "online" | "draining";
export type MessageStatus = "queued" | "running" | "completed" | "failed" | "cancelled" | "interrupted";
export type FinalOutcome = "completed" | "failed" | "cancelled" | "interrupted";

/** What a worker reports about itself when it registers. */
export type WorkerInfo = { hostname: string; version: string; directory: string; pid?: number };

export type RegisterResult = {
  approval: Approval;
  machineName: string;
  workerName: string;
  /** Messages of an earlier instance of this worker that were requeued or interrupted. */
  recovered: { requeued: number; interrupted: number };
};

export type SelfView = {
  approval: Approval;
  status: WorkerStatus;
  machineName: string;
  workerName: string;
  drainRequested: boolean;
};

export type PendingMessage = {
  messageId: string;
  sessionId: string;
  /** OpenCode's own session id, once the session was bound; continues a conversation after a restart. */
  agentSessionId: string | null;
  sessionTitle: string;
  prompt: string;
  /** Creation order; messages of one session must be run in this order. */
  createdAt: number;
  attempt: number;
};

export type PendingWork = {
  queued: PendingMessage[];
  /** Messages this worker runs whose cancellation a person requested. */
  cancelRequested: string[];
};

export type ClaimResult = { claimed: true; leaseExpiresAt: number } | { claimed: false; reason: string };

export type ModelInfo = { providerId: string; modelId: string; name: string };

export const workerApi = {
  register: makeFunctionReference<"mutation", { auth: WorkerAuth; instanceId: string; info: WorkerInfo }, RegisterResult>("workers:register"),
  self: makeFunctionReference<"query", { auth: WorkerAuth }, SelfView>("workers:self"),
  heartbeat: makeFunctionReference<
    "mutation",
    { auth: WorkerAuth; instanceId: string; draining: boolean; runningMessageIds: string[] },
    { approval: Approval; leaseExpiresAt: number }
  >("workers:heartbeat"),
  goOffline: makeFunctionReference<"mutation", { auth: WorkerAuth; instanceId: string }, null>("workers:goOffline"),
  publishModels: makeFunctionReference<"mutation", { auth: WorkerAuth; models: ModelInfo[] }, null>("workers:publishModels"),
  pendingWork: makeFunctionReference<"query", { auth: WorkerAuth }, PendingWork>("workers:pendingWork"),
  claim: makeFunctionReference<"mutation", { auth: WorkerAuth; instanceId: string; messageId: string }, ClaimResult>("workers:claim"),
  appendOutput: makeFunctionReference<
    "mutation",
    { auth: WorkerAuth; instanceId: string; messageId: string; seq: number; text: string },
    { nextSeq: number }
  >("workers:appendOutput"),
  finish: makeFunctionReference<
    "mutation",
    { auth: WorkerAuth; instanceId: string; messageId: string; outcome: FinalOutcome; reason?: string },
    { status: MessageStatus }
  >("workers:finish"),
  bindSession: makeFunctionReference<"mutation", { auth: WorkerAuth; sessionId: string; agentSessionId: string }, null>(
    "workers:bindSession",
  ),
};

export type WorkerSummary = {
  machineId: string;
  machineName: string;
  workerId: string;
  name: string;
  approval: Approval;
  status: WorkerStatus;
  lastHeartbeatAt: number | null;
  hostname: string | null;
  version: string | null;
  directory: string | null;
  createdAt: number;
  approvedAt: number | null;
  models: ModelInfo[];
  /** Paused by a person: finishes running answers, takes no new prompts until resumed. */
  paused: boolean;
};

export type ChatMessageView = {
  messageId: string;
  sessionId: string;
  role: "user" | "assistant";
  status: MessageStatus | null;
  text: string;
  reason: string | null;
  createdAt: number;
  finishedAt: number | null;
  /** Number of output batches stored (assistant messages). */
  outputBatches: number;
};

export type AddWorkerResult = { token: string; machineId: string; workerId: string; name: string; machineName: string };

// Person-side functions: internal, callable only with the deployment's admin key.
export const adminApi = {
  addWorker: makeFunctionReference<"action", { machineName: string; workerName?: string }, AddWorkerResult>("admin:addWorker"),
  approve: makeFunctionReference<"mutation", { worker: string }, WorkerSummary>("admin:approve"),
  revoke: makeFunctionReference<"mutation", { worker: string }, WorkerSummary>("admin:revoke"),
  setPaused: makeFunctionReference<"mutation", { worker: string; paused: boolean }, WorkerSummary>("admin:setPaused"),
  list: makeFunctionReference<"query", Record<string, never>, WorkerSummary[]>("admin:list"),
  sweep: makeFunctionReference<"mutation", Record<string, never>, { requeued: number; interrupted: number; offline: number }>("admin:sweep"),
  /** Days sessions (idle) and revoked workers are kept; null keeps everything. */
  setRetention: makeFunctionReference<"mutation", { days: number | null }, { days: number | null }>("admin:setRetention"),
  retention: makeFunctionReference<"query", Record<string, never>, { days: number | null; defaultDays: number }>("admin:retention"),
  /** One bounded page of deletions past retention (the deployed cron runs it); `more` when it continues. */
  deleteExpired: makeFunctionReference<"mutation", { maxDocs?: number }, RetentionResult>("admin:deleteExpired"),
};

export type RetentionResult = { sessions: number; messages: number; outputChunks: number; workers: number; more: boolean };

export const chatApi = {
  createSession: makeFunctionReference<"mutation", { worker: string; title?: string }, { sessionId: string; workerId: string }>(
    "chat:createSession",
  ),
  // `worker` (id or name), when given, must own the session or message, else WRONG_WORKER.
  send: makeFunctionReference<"mutation", { sessionId: string; text: string; worker?: string }, { userMessageId: string; messageId: string }>(
    "chat:send",
  ),
  cancel: makeFunctionReference<"mutation", { messageId: string; worker?: string }, { status: MessageStatus }>("chat:cancel"),
  message: makeFunctionReference<"query", { messageId: string; worker?: string }, ChatMessageView | null>("chat:message"),
  /** The session's latest messages (at most 200), oldest first. */
  messages: makeFunctionReference<"query", { sessionId: string; worker?: string }, ChatMessageView[]>("chat:messages"),
};

/** Error codes carried in ConvexError data, so clients can tell them apart without parsing text. */
export const BACKEND_ERRORS = {
  unauthorized: "UNAUTHORIZED",
  revoked: "WORKER_REVOKED",
  notFound: "NOT_FOUND",
  conflict: "CONFLICT",
  invalid: "INVALID",
  /** A person-side call named a worker that does not own the session or message; data has `worker` and `owner`. */
  wrongWorker: "WRONG_WORKER",
} as const;
