// `chat` and the requests raised on its answer (permission requests, questions, budget): with
// --permissions it answers each one itself; otherwise it says on stderr how to answer it with
// `reply` and keeps waiting. With --json each request is an event when it is raised and again
// when it ends. Requests are read when the answer's count of pending ones changes, and once more
// at the end, so every change is seen without following a second subscription.
import { BackendRefused, type AdminClient } from "../backend/admin-client.ts";
import type { ChatMessageView, RequestReply, RequestView } from "../backend/api.ts";
import { errorMessage } from "../util/errors.ts";
import { safeLine } from "../util/terminal-text.ts";
import type { CommandContext } from "./command-spec.ts";
import { questionLines } from "./interactive/request-answers.ts";

export type RequestHandling = {
  /** --permissions: answer every permission request and question so (budget requests wait for a person). */
  auto?: RequestReply;
  /** --json: print events on stdout. */
  json?: (line: string) => boolean;
};

/** Called on each update of the answer (before it is rendered); false when stdout went away. */
export type RequestWatch = (view: ChatMessageView, final: boolean) => Promise<boolean>;

/** How to answer it from any terminal. */
export function replyHint(r: Pick<RequestView, "requestId" | "kind">): string {
  const cmd = `opencode-orchestrator reply ${r.requestId}`;
  if (r.kind === "question") return `${cmd} --answer 1|1,3|TEXT   (once per question; or: ${cmd} reject [--message TEXT])`;
  if (r.kind === "budget") return `${cmd} once|reject   (once: continue, reject: stop)`;
  return `${cmd} once|always|reject [--message TEXT]`;
}

/** The request for a person reading stderr: what is asked, then how to answer. Agent text is made safe. */
function describe(r: RequestView): string {
  const lines = [`${r.kind === "permission" ? "permission request" : r.kind === "question" ? "question" : "budget request"} ${r.requestId}: ${safeLine(r.title)}`];
  if (r.detail) lines.push(`  ${safeLine(r.detail)}`);
  // Numbered as `reply --answer` takes them (the same lines `reply` and the interactive chat show).
  for (const q of r.kind === "question" ? (r.questions ?? []) : []) {
    const shown = questionLines(q);
    // The title already is the question's text: only its options follow.
    const options = q.question === r.title ? shown.slice(shown.length - q.options.length) : shown;
    lines.push(...options.map((l) => `  ${l}`));
  }
  lines.push(`  answer with: ${replyHint(r)}`);
  return lines.join("\n");
}

function ended(r: RequestView): string {
  const how = r.status === "answered" ? (r.kind === "question" ? "answered" : `answered ${r.reply}`) : r.status;
  const why = r.reason ?? (r.message ? `"${r.message}"` : undefined);
  return `request ${r.requestId} ${how}${why ? `: ${safeLine(why)}` : ""}`;
}

/** The --json event of a request: its view, `type` for its kind. */
export function requestEvent(r: RequestView): Record<string, unknown> {
  const { kind, messageId: _messageId, ...rest } = r;
  return { type: kind, ...rest };
}

/**
 * --permissions for a request, or undefined when it is left to a person: a spend limit is a
 * safeguard the owner set, so a flag meant to let file reads through never waives it. For a
 * question, reject refuses it and once/always pick each question's first option.
 */
export function autoReply(r: RequestView, auto: RequestReply | undefined): { reply: RequestReply; answers?: string[][] } | undefined {
  if (auto === undefined || r.kind === "budget") return undefined;
  if (r.kind === "question" && auto !== "reject") return { reply: "once", answers: (r.questions ?? []).map((q) => [q.options[0]?.label ?? "yes"]) };
  return { reply: auto };
}

export function watchRequests(admin: AdminClient, ctx: CommandContext, messageId: string, how: RequestHandling): RequestWatch {
  const seen = new Map<string, RequestView["status"]>();
  let lastPending = 0;

  async function onNew(r: RequestView): Promise<void> {
    const a = autoReply(r, how.auto);
    if (!a) {
      if (!how.json) ctx.stderr(describe(r));
      else ctx.stderr(`${r.kind} ${r.requestId} waits for an answer: ${replyHint(r)}`);
      return;
    }
    try {
      await admin.reply(r.requestId, a.reply, a.answers ? { answers: a.answers } : {});
    } catch (e) {
      // Someone else answered first: their answer stands.
      if (e instanceof BackendRefused && e.code === "ALREADY_ANSWERED") return;
      ctx.stderr(`could not answer request ${r.requestId} (${safeLine(errorMessage(e))}); ${replyHint(r)}`);
    }
  }

  return async (view, final) => {
    const changed = view.pendingRequests !== lastPending;
    const hadAny = seen.size > 0 || lastPending > 0;
    lastPending = view.pendingRequests;
    // Text streaming with nothing pending needs no read; the final read (--json, or once any was
    // seen) catches what came and went between two updates.
    if (!final && !changed && view.pendingRequests === 0) return true;
    if (final && !changed && !hadAny && !how.json && view.pendingRequests === 0) return true;
    let list: RequestView[];
    try {
      list = await admin.listRequests(messageId);
    } catch (e) {
      // The answer itself goes on; its requests are read again at the next update.
      ctx.stderr(`could not read the answer's requests (${safeLine(errorMessage(e))})`);
      lastPending = -1;
      return true;
    }
    for (const r of list) {
      const before = seen.get(r.requestId);
      if (before === r.status) continue;
      seen.set(r.requestId, r.status);
      if (how.json) {
        // A request that began and ended between two reads is still shown raised first.
        if (before === undefined && r.status !== "pending") {
          const { reply: _r, message: _m, answers: _a, reason: _why, answeredAt: _at, ...raised } = r;
          if (!how.json(`${JSON.stringify(requestEvent({ ...raised, status: "pending" }))}\n`)) return false;
        }
        if (!how.json(`${JSON.stringify(requestEvent(r))}\n`)) return false;
      }
      if (r.status === "pending") await onNew(r);
      else if (!how.json) ctx.stderr(ended(r));
    }
    return true;
  };
}
