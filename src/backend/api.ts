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
/** What routing needs from a worker: its tags and its max_concurrent_sessions. */
export type RoutingInfo = { tags: string[]; capacity: number };

export type RegisterResult = {
  approval: Approval;
  machineName: string;
  workerName: string;
  /** Messages of an earlier instance of this worker that were requeued or interrupted. */
  recovered: { requeued: number; interrupted: number };
  /** What the worker's model calls cost on this UTC day so far (absent from backends older than that count). */
  spentToday?: { day: string; cost: number };
};

export type SelfView = {
  approval: Approval;
  status: WorkerStatus;
  machineName: string;
  workerName: string;
  drainRequested: boolean;
  /** The process that registered last (absent from older backends); another one means this one was taken over. */
  holder?: { instanceId: string; hostname: string; pid: number | null } | null;
};

export type PendingMessage = {
  messageId: string;
  sessionId: string;
  /** OpenCode's own session id, once the session was bound; continues a conversation after a restart. */
  agentSessionId: string | null;
  sessionTitle: string;
  prompt: string;
  /** `provider/model` chosen for this prompt (`chat --model`); null = OpenCode's default. */
  model?: string | null;
  /** Creation order; messages of one session must be run in this order. */
  createdAt: number;
  attempt: number;
};

export type PendingWork = {
  queued: PendingMessage[];
  /** Messages this worker runs whose cancellation a person requested. */
  cancelRequested: string[];
};

// ── A turn's parts ────────────────────────────────────────────────────────────────────────
// An answer is an ordered list of typed parts. The worker sends changes to them inside the
// same numbered output batches as the answer's text (appendOutput), so they share its
// guarantees: in order, once, nothing lost or doubled across retries and restarts.

export type ToolStatus = "pending" | "running" | "completed" | "error";

/** A tool call as the agent runs it; texts are capped where noted (`truncated` says which were cut). */
export type ToolCall = {
  /** OpenCode's tool name (`bash`, `read`, `edit`, …). */
  name: string;
  callId: string;
  status: ToolStatus;
  /** Every status this call has been seen in, in order (a reader that looked late still sees them all). */
  statuses: ToolStatus[];
  /** OpenCode's one-line title for the call, once it runs. */
  title: string | null;
  /** The input as one short line (at most TOOL_INPUT_CHARS). */
  input: string;
  /** The start of the output (at most TOOL_OUTPUT_CHARS), once completed. */
  output: string | null;
  /** The error, once failed (at most TOOL_OUTPUT_CHARS). */
  error: string | null;
  /** Which fields were cut to their cap. */
  truncated: ("input" | "output" | "error")[];
};

/** A file the turn changed: lines added/removed and the unified patch (at most FILE_PATCH_CHARS). */
export type FileChange = { path: string; status: "added" | "modified" | "deleted"; additions: number; deletions: number; patch: string; patchTruncated: boolean };

export type TodoItem = { content: string; status: string; priority: string };

/** Tokens and cost as OpenCode reports them (cost in USD; 0 for a free or local model). */
export type Usage = {
  /** `step`: one model call; `message`: one assistant message of the turn (its steps added up). */
  scope: "step" | "message";
  input: number;
  output: number;
  reasoning: number;
  cacheRead: number;
  cacheWrite: number;
  cost: number;
};

/**
 * A change to one part, as a batch carries it. `key` names the part within its message (OpenCode's
 * part id, `file:<path>`, `todo`, `usage:<id>`); the first change to a key places the part after
 * the ones before it.
 */
export type PartUpdate =
  /** The answer text from `start` to `end` (character offsets into the message's text) belongs to this part. */
  | { key: string; kind: "text"; start: number; end: number }
  /** More reasoning text, appended (stored up to REASONING_CHARS). */
  | { key: string; kind: "reasoning"; append: string }
  | { key: string; kind: "tool"; tool: Omit<ToolCall, "statuses"> }
  | { key: string; kind: "file"; file: FileChange }
  | { key: string; kind: "todo"; todos: TodoItem[] }
  | { key: string; kind: "usage"; usage: Usage };

/** One part as a reader gets it; `seq` is the output batch that last changed it. */
export type TurnPart = { key: string; order: number; seq: number } & (
  | { kind: "text"; start: number; end: number }
  | { kind: "reasoning"; text: string; truncated: boolean }
  | { kind: "tool"; tool: ToolCall }
  | { kind: "file"; file: FileChange }
  | { kind: "todo"; todos: TodoItem[] }
  | { kind: "usage"; usage: Usage }
);

/** Parts changed after `afterSeq`, in part order; `throughSeq` is what to pass as `afterSeq` next. */
export type TurnPartsView = { parts: TurnPart[]; throughSeq: number };

export type ClaimResult = { claimed: true; leaseExpiresAt: number } | { claimed: false; reason: string };

export type ModelInfo = { providerId: string; modelId: string; name: string };

export const workerApi = {
  register: makeFunctionReference<"mutation", { auth: WorkerAuth; instanceId: string; info: WorkerInfo; routing?: RoutingInfo }, RegisterResult>(
    "workers:register",
  ),
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
    { auth: WorkerAuth; instanceId: string; messageId: string; seq: number; text: string; parts?: PartUpdate[] },
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
  /** Labels sessions are routed by (`chat --tag`), and the sessions it runs at once (null: not reported). */
  tags: string[];
  capacity: number | null;
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
  // Routing (absent from deployments older than tags):
  /** The worker answering; null while a session routed by tags waits for one. */
  workerId?: string | null;
  /** The worker this prompt's routed session moved away from (gone for good): a fresh agent session answers. */
  movedFrom?: string | null;
  /** The model chosen for this answer (`chat --model`), or null for the worker's default (absent from older backends). */
  model?: string | null;
  /** Requests waiting for a person on this answer; list them with requestsApi.list. */
  pendingRequests: number;
};

/** A worker as admin:list shows it: its summary and how many requests wait for a person. */
export type WorkerListEntry = WorkerSummary & { pendingRequests: number };

export type AddWorkerResult = { token: string; machineId: string; workerId: string; name: string; machineName: string };

// Person-side functions: internal, callable only with the deployment's admin key.
export const adminApi = {
  addWorker: makeFunctionReference<"action", { machineName: string; workerName?: string }, AddWorkerResult>("admin:addWorker"),
  approve: makeFunctionReference<"mutation", { worker: string }, WorkerSummary>("admin:approve"),
  revoke: makeFunctionReference<"mutation", { worker: string }, WorkerSummary>("admin:revoke"),
  setPaused: makeFunctionReference<"mutation", { worker: string; paused: boolean }, WorkerSummary>("admin:setPaused"),
  list: makeFunctionReference<"query", Record<string, never>, WorkerListEntry[]>("admin:list"),
  sweep: makeFunctionReference<"mutation", Record<string, never>, { requeued: number; interrupted: number; offline: number }>("admin:sweep"),
  /** Days sessions (idle) and revoked workers are kept; null keeps everything. */
  setRetention: makeFunctionReference<"mutation", { days: number | null }, { days: number | null }>("admin:setRetention"),
  retention: makeFunctionReference<"query", Record<string, never>, { days: number | null; defaultDays: number }>("admin:retention"),
  /** One bounded page of deletions past retention (the deployed cron runs it); `more` when it continues. */
  deleteExpired: makeFunctionReference<"mutation", { maxDocs?: number }, RetentionResult>("admin:deleteExpired"),
};

export type RetentionResult = { sessions: number; messages: number; outputChunks: number; turnParts: number; requests: number; workers: number; more: boolean };

export const chatApi = {
  /** Exactly one of `worker` (id or name) and `tags`: a session for tags is routed when a prompt is sent (workerId null). */
  createSession: makeFunctionReference<
    "mutation",
    { worker: string; title?: string } | { tags: string[]; title?: string },
    { sessionId: string; workerId: string | null }
  >("chat:createSession"),
  // `worker` (id or name), when given, must own the session or message, else WRONG_WORKER.
  // `model` (provider/model) must be one the worker published, else INVALID listing them.
  // `workerId`: who will answer; null while a routed session waits for a worker with its tags.
  send: makeFunctionReference<
    "mutation",
    { sessionId: string; text: string; worker?: string; model?: string },
    { userMessageId: string; messageId: string; workerId: string | null }
  >("chat:send"),
  cancel: makeFunctionReference<"mutation", { messageId: string; worker?: string }, { status: MessageStatus }>("chat:cancel"),
  message: makeFunctionReference<"query", { messageId: string; worker?: string }, ChatMessageView | null>("chat:message"),
  /** The session's latest messages (at most 200), oldest first. */
  messages: makeFunctionReference<"query", { sessionId: string; worker?: string }, ChatMessageView[]>("chat:messages"),
  /** The answer's parts changed after output batch `afterSeq` (-1: all), so a reader fetches only what is new. */
  parts: makeFunctionReference<"query", { messageId: string; afterSeq: number; worker?: string }, TurnPartsView>("chat:parts"),
};

/** One of a worker's sessions as sessions:list shows it; `title` is its first prompt, shortened. */
export type SessionSummary = { sessionId: string; title: string; createdAt: number; lastActivityAt: number };

export const sessionsApi = {
  /** A worker's sessions, most recently used first (default 50, at most 200). */
  list: makeFunctionReference<"query", { worker: string; limit?: number }, SessionSummary[]>("sessions:list"),
};

// ── Requests a person answers (convex/requests.ts) ──────────────────────────────────────────
// OpenCode's permission requests and questions, and budget requests, raised by the worker on a
// running answer; a person answers each once, the worker hands the answer to OpenCode.

export type RequestKind = "permission" | "question" | "budget";
export type RequestStatus = "pending" | "answered" | "rejected" | "expired";
/** once/always: allow (a question's answers and a budget's "continue" go with once); reject: refuse. */
export type RequestReply = "once" | "always" | "reject";
export type RequestQuestion = { question: string; header: string; options: { label: string; description: string }[]; multiple?: boolean };

/** What a worker says about a request it raises. */
export type RequestContent = {
  kind: RequestKind;
  /** One short line a person reads, e.g. "read /p/.env". */
  title: string;
  /** OpenCode's permission name (read, bash, edit, external_directory, doom_loop, …). */
  permission?: string;
  patterns?: string[];
  /** A short summary of the tool input (capped). */
  detail?: string;
  questions?: RequestQuestion[];
};

export type RequestView = Omit<RequestContent, "kind"> & {
  requestId: string;
  messageId: string;
  kind: RequestKind;
  status: RequestStatus;
  reply?: RequestReply;
  /** The person's message with a rejection. */
  message?: string;
  /** A question's answers: one list of labels (or typed text) per question. */
  answers?: string[][];
  /** Why it ended without a person: a timeout, the worker stopped, OpenCode forgot it. */
  reason?: string;
  createdAt: number;
  answeredAt?: number;
};

export type PendingRequestView = RequestView & { worker: string; sessionId: string };

/** A request as the worker sees it: its state and the person's answer, if any. */
export type WorkerRequestView = {
  requestId: string;
  messageId: string;
  kind: RequestKind;
  agentRequestId: string | null;
  status: RequestStatus;
  reply: RequestReply | null;
  message: string | null;
  answers: string[][] | null;
  reason: string | null;
  /** The answer was handed to OpenCode (or the worker settled the request itself). */
  delivered: boolean;
};

/** delivered: the person's answer reached OpenCode; rejected/expired: ended by the worker, with a reason. */
export type RequestSettlement = "delivered" | "rejected" | "expired";

export const workerRequestsApi = {
  /** Idempotent by (messageId, agentRequestId): the same request raised again returns the stored one. */
  raise: makeFunctionReference<
    "mutation",
    { auth: WorkerAuth; instanceId: string; messageId: string; agentRequestId?: string } & RequestContent,
    WorkerRequestView
  >("requests:raise"),
  /** Answered by a person, not yet delivered; a worker subscribes to it. */
  answered: makeFunctionReference<"query", { auth: WorkerAuth }, WorkerRequestView[]>("requests:answered"),
  settle: makeFunctionReference<
    "mutation",
    { auth: WorkerAuth; requestId: string; outcome: RequestSettlement; reason?: string },
    WorkerRequestView
  >("requests:settle"),
};

// Person-side: internal, admin key.
export const requestsApi = {
  /** The answer's requests in the order they were raised. */
  list: makeFunctionReference<"query", { messageId: string; worker?: string }, RequestView[]>("requests:list"),
  /** Every pending request (or one worker's), oldest first. */
  pending: makeFunctionReference<"query", { worker?: string }, PendingRequestView[]>("requests:pending"),
  /** Errors: NOT_FOUND, ALREADY_ANSWERED, INVALID, WRONG_WORKER. */
  reply: makeFunctionReference<
    "mutation",
    { requestId: string; reply: RequestReply; message?: string; answers?: string[][]; worker?: string },
    { status: RequestStatus }
  >("requests:reply"),
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
  /** A request was answered (or ended) before; data has its `status`. */
  alreadyAnswered: "ALREADY_ANSWERED",
} as const;
