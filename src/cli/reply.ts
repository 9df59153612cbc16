// `reply`: answers a permission request, question or budget request by id, from any terminal
// (the chat that raised it may be gone, or be a script that left it for a person). Without an
// id it lists the pending ones. Admin key and URL are found as for `chat`.
import { BackendRefused, connectAdmin, type AdminClient } from "../backend/admin-client.ts";
import type { PendingRequestView, RequestReply } from "../backend/api.ts";
import { questionAnswer, questionLines } from "./interactive/request-answers.ts";
import { stdoutColors, stderrColors } from "../util/colors.ts";
import { EXIT, RuntimeFailure, UsageError } from "../util/errors.ts";
import { safeJson, safeLine } from "../util/terminal-text.ts";
import type { CommandContext } from "./command-spec.ts";
import { DEFAULT_ADMIN_TIMEOUT_MS, type replyOptions } from "./command-table.ts";
import { formatAge, renderTable } from "./table.ts";
import { resolvePersonTarget } from "./up-target.ts";

export const REPLIES = ["once", "always", "reject"] as const;

type ReplyContext = CommandContext<typeof replyOptions>;

/** What the person asked for, checked before anything is sent. */
export function replyOf(ctx: ReplyContext): { requestId: string; reply: RequestReply; message?: string; answers?: string[] } {
  const [requestId, word] = ctx.positionals as [string, string | undefined];
  const answers = ctx.flags.answer;
  const message = ctx.flags.message;
  if (word !== undefined && !(REPLIES as readonly string[]).includes(word)) {
    throw new UsageError(`the answer must be one of ${REPLIES.join(", ")} (got "${safeLine(word)}")`, { command: "reply" });
  }
  if (answers?.length) {
    if (word !== undefined && word !== "once") throw new UsageError(`--answer answers a question; leave out "${word}"`, { command: "reply" });
    if (message !== undefined) throw new UsageError("--message goes with a rejection, not with --answer", { command: "reply" });
    return { requestId, reply: "once", answers };
  }
  if (word === undefined) throw new UsageError("say how to answer: once, always or reject (a question: --answer TEXT)", { command: "reply" });
  if (message !== undefined && word !== "reject") throw new UsageError("--message goes only with reject", { command: "reply" });
  return { requestId, reply: word as RequestReply, ...(message !== undefined ? { message } : {}) };
}

/** A pending question's options by number, as --answer takes them (and the interactive chat shows them). */
function questionBlock(r: PendingRequestView): string {
  const qs = r.questions ?? [];
  const lines = qs.flatMap((q, i) => questionLines(q).map((l, j) => `  ${j === 0 && qs.length > 1 ? `(${i + 1}) ` : ""}${l}`));
  return [safeLine(r.requestId), ...lines].join("\n");
}

function listPending(ctx: ReplyContext, pending: PendingRequestView[]): void {
  if (ctx.flags.json) return ctx.stdout(safeJson({ requests: pending }, 2));
  if (pending.length === 0) return ctx.stderr("No requests wait for an answer.");
  const c = stdoutColors();
  const now = Date.now();
  const rows = pending.map((r) => [safeLine(r.requestId), safeLine(r.worker), r.kind, safeLine(r.title), `${formatAge(now - r.createdAt)} ago`]);
  ctx.stdout(renderTable(["REQUEST", "WORKER", "KIND", "ASKS", "WAITING"], rows, { headerStyle: c.bold }));
  for (const r of pending) if (r.kind === "question") ctx.stdout(`\n${questionBlock(r)}`);
  ctx.stderr("Answer with: opencode-orchestrator reply <request> once|always|reject [--message TEXT]   (a question: --answer 1|1,3|TEXT, once per question)");
}

/**
 * The answers to send: each --answer read against its question (option numbers → labels, as the
 * interactive chat reads them). A request that is not pending here goes as typed, one answer per
 * --answer: the backend says what became of it (unknown, answered, another worker's).
 */
async function questionAnswers(ctx: ReplyContext, admin: AdminClient, requestId: string, typed: string[]): Promise<string[][]> {
  const id = requestId.trim();
  const r = (await admin.pendingRequests(ctx.flags.worker)).find((p) => p.requestId === id);
  const questions = r?.kind === "question" ? (r.questions ?? []) : null;
  if (!questions) return typed.map((a) => [a]);
  if (typed.length !== questions.length) {
    const n = questions.length;
    throw new UsageError(`request ${safeLine(id)} asks ${n} question${n === 1 ? "" : "s"}: give --answer ${n === 1 ? "once" : `${n} times, in order`} (got ${typed.length})`, { command: "reply" });
  }
  return typed.map((text, i) => {
    const a = questionAnswer(questions[i]!, text);
    if ("problem" in a) throw new UsageError(`--answer ${i + 1} ("${safeLine(text)}"): ${a.problem}`, { command: "reply" });
    return a;
  });
}

const shownAnswers = (answers: string[][]) => answers.map((a) => a.map((x) => `"${safeLine(x)}"`).join(", ")).join(" / ");

async function answer(ctx: ReplyContext, admin: AdminClient): Promise<number> {
  const r = replyOf(ctx);
  try {
    const answers = r.answers ? await questionAnswers(ctx, admin, r.requestId, r.answers) : undefined;
    const { status } = await admin.reply(r.requestId, r.reply, { message: r.message, answers, worker: ctx.flags.worker });
    const err = stderrColors();
    const how = answers ? `: ${shownAnswers(answers)}` : ` (${r.reply})`;
    ctx.stderr(`${status === "answered" ? err.ok("Answered") : err.warn("Rejected")} request ${safeLine(r.requestId)}${how}.`);
    if (ctx.flags.json) ctx.stdout(safeJson({ requestId: r.requestId, status, ...(answers ? { answers } : {}) }, 2));
    return EXIT.ok;
  } catch (e) {
    if (e instanceof BackendRefused && e.code === "ALREADY_ANSWERED") throw new RuntimeFailure(e.message, { hint: "A request takes one answer; see what is still pending with `opencode-orchestrator reply`." });
    if (e instanceof BackendRefused && e.code === "NOT_FOUND") throw new RuntimeFailure(e.message);
    throw e;
  }
}

export async function run(ctx: ReplyContext): Promise<number> {
  // Checked first: a malformed reply never reaches the backend.
  if (ctx.positionals.length > 0) replyOf(ctx);
  else if (ctx.flags.answer?.length || ctx.flags.message !== undefined) throw new UsageError("which request? reply <request-id> …", { command: "reply" });
  const target = resolvePersonTarget({ url: ctx.flags.url, adminKey: ctx.flags["admin-key"] }, ctx.stderr);
  const admin = connectAdmin(target.url, target.adminKey, { timeoutMs: (ctx.flags.timeout ?? DEFAULT_ADMIN_TIMEOUT_MS / 1000) * 1000 });
  try {
    if (ctx.positionals.length === 0) {
      listPending(ctx, await admin.pendingRequests(ctx.flags.worker));
      return EXIT.ok;
    }
    return await answer(ctx, admin);
  } finally {
    await admin.close();
  }
}
