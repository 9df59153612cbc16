// Permission requests, questions and budget requests raised on an answer (see convex/requests.ts):
// their validators, the caps they are held to, the view people get, and how an answer that ends
// closes the requests still open on it.
import { v, type Infer } from "convex/values";
import {
  MAX_QUESTION_OPTIONS,
  MAX_QUESTIONS,
  MAX_REQUEST_PATTERNS,
  MAX_REQUESTS_PER_MESSAGE,
  QUESTION_TEXT_CHARS,
  REQUEST_DETAIL_CHARS,
  REQUEST_MESSAGE_CHARS,
  REQUEST_TITLE_CHARS,
} from "./constants";
import { fail } from "./errors";
import type { Doc, Id, MutationCtx, QueryCtx } from "./server";

export const requestKindValidator = v.union(v.literal("permission"), v.literal("question"), v.literal("budget"));
export const requestStatusValidator = v.union(v.literal("pending"), v.literal("answered"), v.literal("rejected"), v.literal("expired"));
export const requestReplyValidator = v.union(v.literal("once"), v.literal("always"), v.literal("reject"));
export const questionValidator = v.object({
  question: v.string(),
  header: v.string(),
  options: v.array(v.object({ label: v.string(), description: v.string() })),
  multiple: v.optional(v.boolean()),
});
export type Question = Infer<typeof questionValidator>;

/** What a worker says about a request it raises (the person-facing fields). */
export const requestContentValidator = {
  kind: requestKindValidator,
  title: v.string(),
  permission: v.optional(v.string()),
  patterns: v.optional(v.array(v.string())),
  detail: v.optional(v.string()),
  questions: v.optional(v.array(questionValidator)),
};
type Content = {
  kind: Doc<"requests">["kind"];
  title: string;
  permission?: string;
  patterns?: string[];
  detail?: string;
  questions?: Question[];
};

function capped(what: string, text: string, max: number): void {
  if (text.length > max) fail("INVALID", `${what} is too long (${text.length} characters; the limit is ${max}).`);
}

/** The caps of a raised request, so a reader never gets more than it expects. */
export function checkContent(c: Content): void {
  if (c.title.trim() === "") fail("INVALID", "A request needs a title.");
  capped("The request title", c.title, REQUEST_TITLE_CHARS);
  capped("The permission name", c.permission ?? "", REQUEST_TITLE_CHARS);
  capped("The request detail", c.detail ?? "", REQUEST_DETAIL_CHARS);
  const patterns = c.patterns ?? [];
  if (patterns.length > MAX_REQUEST_PATTERNS) fail("INVALID", `Too many patterns (${patterns.length}; the limit is ${MAX_REQUEST_PATTERNS}).`);
  for (const p of patterns) capped("A pattern", p, REQUEST_TITLE_CHARS);
  const questions = c.questions ?? [];
  if (c.kind === "question" && questions.length === 0) fail("INVALID", "A question request needs at least one question.");
  if (questions.length > MAX_QUESTIONS) fail("INVALID", `Too many questions (${questions.length}; the limit is ${MAX_QUESTIONS}).`);
  for (const q of questions) {
    capped("A question", q.question, QUESTION_TEXT_CHARS);
    capped("A question header", q.header, REQUEST_TITLE_CHARS);
    if (q.options.length > MAX_QUESTION_OPTIONS) fail("INVALID", `Too many options (${q.options.length}; the limit is ${MAX_QUESTION_OPTIONS}).`);
    for (const o of q.options) {
      capped("An option label", o.label, REQUEST_TITLE_CHARS);
      capped("An option description", o.description, QUESTION_TEXT_CHARS);
    }
  }
}

export type Reply = NonNullable<Doc<"requests">["reply"]>;

/** The person's answer must fit the kind of request; returns the status it leads to. */
export function checkReply(request: Doc<"requests">, reply: Reply, message: string | undefined, answers: string[][] | undefined) {
  const id = request.requestId;
  capped("The message", message ?? "", REQUEST_MESSAGE_CHARS);
  if (reply === "reject") {
    if (answers !== undefined) fail("INVALID", `Request ${id}: a rejection carries no answers; leave --answer out or reply once.`);
    return "rejected" as const;
  }
  if (request.kind === "question") {
    const asked = request.questions?.length ?? 0;
    if (reply === "always") fail("INVALID", `Request ${id} is a question: answer it with --answer TEXT, or reject it.`);
    if (answers === undefined || answers.length !== asked) {
      fail("INVALID", `Request ${id} asks ${asked} question${asked === 1 ? "" : "s"}: give ${asked} answer${asked === 1 ? "" : "s"} (--answer TEXT each), got ${answers?.length ?? 0}.`);
    }
    for (const a of answers.flat()) capped("An answer", a, REQUEST_MESSAGE_CHARS);
    if (answers.some((a) => a.length === 0 || a.some((x) => x.trim() === ""))) fail("INVALID", `Request ${id}: every answer needs some text.`);
    return "answered" as const;
  }
  if (answers !== undefined) fail("INVALID", `Request ${id} is a ${request.kind} request, not a question: reply once, always or reject, without --answer.`);
  if (request.kind === "budget" && reply === "always") fail("INVALID", `Request ${id} is a budget request: reply once (continue) or reject (stop).`);
  if (message !== undefined) fail("INVALID", `Request ${id}: a message goes only with a rejection (reply reject --message TEXT).`);
  return "answered" as const;
}

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A short id a person types into `reply`. It needs to be unique, not secret (replying takes the
 * admin key): Convex seeds a mutation's Math.random per run, and the caller checks the index.
 */
function candidateId(): string {
  let id = "req_";
  for (let i = 0; i < 10; i++) id += ID_ALPHABET[Math.floor(Math.random() * ID_ALPHABET.length)];
  return id;
}

export async function findRequest(ctx: QueryCtx, requestId: string): Promise<Doc<"requests"> | null> {
  return await ctx.db
    .query("requests")
    .withIndex("by_requestId", (q) => q.eq("requestId", requestId))
    .unique();
}

export async function newRequestId(ctx: QueryCtx): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const id = candidateId();
    if (!(await findRequest(ctx, id))) return id;
  }
  return fail("CONFLICT", "Could not find a free request id; try again.");
}

export async function requestsOf(ctx: QueryCtx, messageId: Id<"messages">): Promise<Doc<"requests">[]> {
  return await ctx.db
    .query("requests")
    .withIndex("by_message", (q) => q.eq("messageId", messageId))
    .take(MAX_REQUESTS_PER_MESSAGE);
}

export async function pendingCount(ctx: QueryCtx, messageId: Id<"messages">): Promise<number> {
  const rows = await ctx.db
    .query("requests")
    .withIndex("by_message_status", (q) => q.eq("messageId", messageId).eq("status", "pending"))
    .take(MAX_REQUESTS_PER_MESSAGE);
  return rows.length;
}

/**
 * An answer that ends (finished, recovered after its worker went away, revoked) takes its open
 * requests with it: pending ones and answers never handed to OpenCode end `expired` with `why`,
 * so nobody answers a request no agent waits for any more.
 */
export async function closeOpenRequests(ctx: MutationCtx, messageId: Id<"messages">, why: string): Promise<void> {
  const now = Date.now();
  for (const r of await requestsOf(ctx, messageId)) {
    if (r.status === "pending") await ctx.db.patch(r._id, { status: "expired", reason: why, answeredAt: now, delivered: true });
    else if (!r.delivered) await ctx.db.patch(r._id, { delivered: true, reason: r.reason ?? `not handed to OpenCode: ${why}` });
  }
}

export type RequestView = {
  requestId: string;
  messageId: string;
  kind: Doc<"requests">["kind"];
  status: Doc<"requests">["status"];
  title: string;
  permission?: string;
  patterns?: string[];
  detail?: string;
  questions?: Question[];
  reply?: Reply;
  message?: string;
  answers?: string[][];
  reason?: string;
  createdAt: number;
  answeredAt?: number;
};

/** The person's view: the row without worker-internal fields; absent fields are left out. */
export function requestView(r: Doc<"requests">): RequestView {
  const optional = {
    permission: r.permission,
    patterns: r.patterns,
    detail: r.detail,
    questions: r.questions,
    reply: r.reply,
    message: r.message,
    answers: r.answers,
    reason: r.reason,
    answeredAt: r.answeredAt,
  };
  const present = Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined));
  return { requestId: r.requestId, messageId: r.messageId, kind: r.kind, status: r.status, title: r.title, createdAt: r.createdAt, ...present };
}

/** How a request that is no longer pending ended, for the ALREADY_ANSWERED error. */
export function howSettled(r: Doc<"requests">): string {
  const when = r.answeredAt === undefined ? "" : ` at ${new Date(r.answeredAt).toISOString()}`;
  if (r.status === "expired") return `expired${when}${r.reason ? ` (${r.reason})` : ""}`;
  if (r.status === "rejected") return `rejected${when}${r.reason ? ` (${r.reason})` : r.message ? ` with the message "${r.message}"` : ""}`;
  if (r.kind === "question") return `answered${when}`;
  return `answered "${r.reply}"${when}`;
}
