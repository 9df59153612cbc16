// The data model. Our own short ids (machineId, workerId) go into worker tokens, because
// Convex document ids are not guaranteed to fit the token's [A-Za-z0-9_-] alphabet.
// Every lookup a function makes has an index; the only full scans are person-side listings.
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { fileValidator, partKindValidator, todoValidator, toolValidator, usageValidator } from "./lib/parts";
import { questionValidator, requestKindValidator, requestReplyValidator, requestStatusValidator } from "./lib/requests";

export const approvalValidator = v.union(v.literal("pending"), v.literal("approved"), v.literal("revoked"));
export const workerStatusValidator = v.union(v.literal("offline"), v.literal("online"), v.literal("draining"));
export const messageStatusValidator = v.union(
  v.literal("queued"),
  v.literal("running"),
  v.literal("completed"),
  v.literal("failed"),
  v.literal("cancelled"),
  v.literal("interrupted"),
);
export const finalOutcomeValidator = v.union(
  v.literal("completed"),
  v.literal("failed"),
  v.literal("cancelled"),
  v.literal("interrupted"),
);
export const modelValidator = v.object({ providerId: v.string(), modelId: v.string(), name: v.string() });

export default defineSchema({
  machines: defineTable({
    machineId: v.string(),
    name: v.string(),
    createdAt: v.number(),
  })
    .index("by_machineId", ["machineId"])
    .index("by_name", ["name"]),

  workers: defineTable({
    workerId: v.string(),
    machineId: v.string(),
    name: v.string(),
    /** Lower-case hex SHA-256 of the secret; the secret itself is never stored. */
    secretHash: v.string(),
    approval: approvalValidator,
    status: workerStatusValidator,
    drainRequested: v.boolean(),
    /** The running process that registered last; heartbeats from any other are stale. */
    instanceId: v.optional(v.string()),
    /** Legacy: liveness moved to the `liveness` table; cleared at the worker's next status change or beat. */
    lastHeartbeatAt: v.optional(v.number()),
    hostname: v.optional(v.string()),
    version: v.optional(v.string()),
    directory: v.optional(v.string()),
    pid: v.optional(v.number()),
    models: v.array(modelValidator),
    /** Labels sessions are routed by (lib/routing.ts); reported at registration. */
    tags: v.optional(v.array(v.string())),
    /** Sessions it runs at once (its max_concurrent_sessions), reported at registration. */
    capacity: v.optional(v.number()),
    createdAt: v.number(),
    approvedAt: v.optional(v.number()),
    revokedAt: v.optional(v.number()),
  })
    .index("by_workerId", ["workerId"])
    .index("by_name", ["name"])
    .index("by_machine", ["machineId"])
    .index("by_approval_revoked", ["approval", "revokedAt"])
    // Only rows still carrying the legacy lastHeartbeatAt are in range of the sweep's look here.
    .index("by_status_heartbeat", ["status", "lastHeartbeatAt"]),

  // Apart from `workers` because it changes on every heartbeat (see lib/liveness.ts).
  liveness: defineTable({
    workerId: v.string(),
    lastHeartbeatAt: v.number(),
    /** True while the worker is online or draining; the sweep looks only at these. */
    live: v.boolean(),
  })
    .index("by_workerId", ["workerId"])
    .index("by_live_heartbeat", ["live", "lastHeartbeatAt"]),

  // A worker's spend on the current UTC day (lib/spend.ts): max_daily_cost across restarts.
  spend: defineTable({
    workerId: v.string(),
    /** The UTC day (YYYY-MM-DD) `cost` is of. */
    day: v.string(),
    /** US dollars, as OpenCode prices the worker's model calls. */
    cost: v.number(),
  }).index("by_workerId", ["workerId"]),

  sessions: defineTable({
    /** UNROUTED ("") while a session addressed to tags waits for a worker (lib/routing.ts). */
    workerId: v.string(),
    /** Set when the session was addressed to a tag set instead of a worker: it is routed. */
    tags: v.optional(v.array(v.string())),
    /** The worker a routed session last moved away from (gone for good). */
    movedFrom: v.optional(v.string()),
    title: v.string(),
    /** OpenCode's session id once the worker bound it, so a conversation survives restarts. */
    agentSessionId: v.optional(v.string()),
    createdAt: v.number(),
    /** When a prompt was last sent (or the session created); retention deletes idle sessions. Missing on older rows. */
    lastActivityAt: v.optional(v.number()),
  })
    .index("by_worker", ["workerId"])
    .index("by_activity", ["lastActivityAt"])
    // sessions:list: a worker's sessions, most recently used first.
    .index("by_worker_activity", ["workerId", "lastActivityAt"]),

  // User prompts and assistant answers in one table, so a session reads back in order.
  // Assistant rows carry the run state; `replyTo` points at the prompt they answer.
  messages: defineTable({
    sessionId: v.id("sessions"),
    workerId: v.string(),
    role: v.union(v.literal("user"), v.literal("assistant")),
    /** The prompt for user rows; empty for assistant rows, whose text lives in outputChunks. */
    text: v.string(),
    replyTo: v.optional(v.id("messages")),
    status: v.optional(messageStatusValidator),
    reason: v.optional(v.string()),
    attempts: v.number(),
    leaseInstanceId: v.optional(v.string()),
    leaseExpiresAt: v.optional(v.number()),
    cancelRequested: v.boolean(),
    /** Sequence number the next output batch must carry; equals the number of stored batches. */
    nextSeq: v.number(),
    /** `provider/model` the prompt runs with (assistant rows; checked against the worker's models); absent = OpenCode's default. */
    model: v.optional(v.string()),
    /** Typed parts stored so far (turnParts); missing on older rows and before the first. */
    partCount: v.optional(v.number()),
    /** The worker this prompt was moved away from, when its routed session moved (lib/routing.ts). */
    movedFrom: v.optional(v.string()),
    createdAt: v.number(),
    startedAt: v.optional(v.number()),
    finishedAt: v.optional(v.number()),
  })
    .index("by_session", ["sessionId"])
    .index("by_worker_status", ["workerId", "status"])
    // pendingWork finds cancel requests here, so lease extensions of other running messages
    // (every heartbeat) fall outside what it reads.
    .index("by_worker_cancel", ["workerId", "cancelRequested", "status"])
    .index("by_status_lease", ["status", "leaseExpiresAt"]),

  // Deployment-wide settings a person changes with admin functions; one row per name.
  settings: defineTable({
    name: v.literal("retention"),
    /** Days kept (see RETENTION_DAYS_DEFAULT); null keeps everything for ever. */
    retentionDays: v.union(v.number(), v.null()),
  }).index("by_name", ["name"]),

  // An answer's text in order; one chunk holds one or more consecutive output batches.
  outputChunks: defineTable({
    messageId: v.id("messages"),
    /** The last output batch stored in this chunk. */
    seq: v.number(),
    text: v.string(),
  }).index("by_message_seq", ["messageId", "seq"]),

  // An answer's typed parts (lib/parts.ts): one row per part, changed in place as it evolves;
  // `seq` is the output batch that changed it last, so readers fetch only what is new.
  turnParts: defineTable({
    messageId: v.id("messages"),
    key: v.string(),
    kind: partKindValidator,
    /** Position among the message's parts: the order they first appeared in. */
    order: v.number(),
    seq: v.number(),
    start: v.optional(v.number()),
    end: v.optional(v.number()),
    text: v.optional(v.string()),
    truncated: v.optional(v.boolean()),
    tool: v.optional(toolValidator),
    file: v.optional(fileValidator),
    todos: v.optional(v.array(todoValidator)),
    usage: v.optional(usageValidator),
  })
    .index("by_message_key", ["messageId", "key"])
    .index("by_message_seq", ["messageId", "seq"]),

  // Permission requests, questions and budget requests raised on an answer (convex/requests.ts):
  // the worker raises one when OpenCode (or a spend limit) asks, a person answers it, the worker
  // hands the answer to OpenCode and marks it delivered.
  requests: defineTable({
    /** Our own id, shown to people and typed into `reply`. */
    requestId: v.string(),
    messageId: v.id("messages"),
    sessionId: v.id("sessions"),
    workerId: v.string(),
    kind: requestKindValidator,
    /** OpenCode's request id (or the worker's key for a budget request); one request per key and message. */
    agentRequestId: v.optional(v.string()),
    title: v.string(),
    permission: v.optional(v.string()),
    patterns: v.optional(v.array(v.string())),
    detail: v.optional(v.string()),
    questions: v.optional(v.array(questionValidator)),
    status: requestStatusValidator,
    reply: v.optional(requestReplyValidator),
    message: v.optional(v.string()),
    answers: v.optional(v.array(v.array(v.string()))),
    /** Why it ended without a person (timeout, the worker stopped, OpenCode forgot it). */
    reason: v.optional(v.string()),
    createdAt: v.number(),
    answeredAt: v.optional(v.number()),
    /** The worker handed the answer to OpenCode (or settled it itself); false while pending. */
    delivered: v.boolean(),
  })
    .index("by_requestId", ["requestId"])
    .index("by_message", ["messageId", "createdAt"])
    .index("by_message_agent", ["messageId", "agentRequestId"])
    .index("by_message_status", ["messageId", "status"])
    .index("by_status_worker", ["status", "workerId"])
    // The worker's subscription reads only answered-but-undelivered rows of its own.
    .index("by_worker_delivered_status", ["workerId", "delivered", "status"]),
});
