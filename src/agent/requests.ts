// OpenCode's permission requests and questions. A turn that can reach a person (its runner gave
// `onAsk`) hands each one over as an AgentAsk and relays the answer back with answerAsk; one
// nobody can answer (no turn waits for it, or its runner cannot ask) is refused at once, since
// an unanswered one stalls the turn until the inactivity timeout.
import type { OpencodeClient } from "@opencode-ai/sdk/v2/client";
import { MAX_QUESTION_OPTIONS, MAX_QUESTIONS, MAX_REQUEST_PATTERNS, QUESTION_TEXT_CHARS, REQUEST_DETAIL_CHARS, REQUEST_TITLE_CHARS } from "../../convex/lib/constants.ts";
import type { RequestQuestion, RequestReply } from "../backend/api.ts";
import { errorMessage } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import type { AgentEvent } from "./events.ts";

export type AgentRequest = Extract<AgentEvent, { type: "permission.asked" | "question.asked" }>;
export type AgentRequestEnd = Extract<AgentEvent, { type: "permission.replied" | "question.replied" | "question.rejected" }>;

export function isAgentRequest(ev: AgentEvent): ev is AgentRequest {
  return ev.type === "permission.asked" || ev.type === "question.asked";
}

export function isAgentRequestEnd(ev: AgentEvent): ev is AgentRequestEnd {
  return ev.type === "permission.replied" || ev.type === "question.replied" || ev.type === "question.rejected";
}

/** A request as people see it, capped to what the backend stores. */
export type AgentAsk = {
  kind: "permission" | "question";
  /** OpenCode's id for it. */
  agentRequestId: string;
  /** The OpenCode session that asked: the turn's own, or a sub-agent's. */
  sessionId: string;
  title: string;
  permission?: string;
  patterns?: string[];
  detail?: string;
  questions?: RequestQuestion[];
};

/** The person's answer (or ours when nobody gave one): once/always allow, reject refuses; a question's answers go with once. */
export type AgentReply = { reply: RequestReply; message?: string; answers?: string[][] };

const cap = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();

/** The tool input behind a permission, as one short line: its string fields, key: value. */
function detailOf(metadata: Record<string, unknown>): string | undefined {
  const fields = Object.entries(metadata ?? {})
    .filter(([, v]) => typeof v === "string" && v !== "")
    .map(([k, v]) => `${k}: ${oneLine(v as string)}`);
  return fields.length ? cap(fields.join("; "), REQUEST_DETAIL_CHARS) : undefined;
}

export function describeAsk(ev: AgentRequest): AgentAsk {
  const p = ev.properties;
  if (ev.type === "permission.asked") {
    const patterns = ev.properties.patterns.slice(0, MAX_REQUEST_PATTERNS).map((x) => cap(x, REQUEST_TITLE_CHARS));
    const detail = detailOf(ev.properties.metadata);
    return {
      kind: "permission",
      agentRequestId: p.id,
      sessionId: p.sessionID,
      title: cap(oneLine(`${ev.properties.permission} ${patterns.join(" ")}`), REQUEST_TITLE_CHARS),
      permission: cap(ev.properties.permission, REQUEST_TITLE_CHARS),
      patterns,
      ...(detail ? { detail } : {}),
    };
  }
  const questions = ev.properties.questions.slice(0, MAX_QUESTIONS).map((q) => ({
    question: cap(q.question, QUESTION_TEXT_CHARS),
    header: cap(q.header, REQUEST_TITLE_CHARS),
    options: q.options.slice(0, MAX_QUESTION_OPTIONS).map((o) => ({ label: cap(o.label, REQUEST_TITLE_CHARS), description: cap(o.description, QUESTION_TEXT_CHARS) })),
    ...(q.multiple ? { multiple: true } : {}),
  }));
  const first = questions[0];
  const title = cap(oneLine(first ? first.question : "a question"), REQUEST_TITLE_CHARS) || "a question";
  return { kind: "question", agentRequestId: p.id, sessionId: p.sessionID, title, questions };
}

type Ref = Pick<AgentAsk, "kind" | "agentRequestId">;

/**
 * Hands the answer to OpenCode. "unknown": OpenCode no longer knows the request (it restarted,
 * or the turn it belonged to is over); other failures throw.
 */
export async function answerAsk(client: OpencodeClient, directory: string, ask: Ref, r: AgentReply): Promise<"delivered" | "unknown"> {
  const requestID = ask.agentRequestId;
  const res =
    ask.kind === "permission"
      ? await client.permission.reply({ requestID, directory, reply: r.reply, ...(r.message ? { message: r.message } : {}) })
      : r.reply === "reject"
        ? await client.question.reject({ requestID, directory })
        : await client.question.reply({ requestID, directory, answers: r.answers ?? [] });
  if (res.response?.status === 404) return "unknown";
  if (!res.response?.ok) throw new Error(`OpenCode refused the answer: ${res.response ? `HTTP ${res.response.status}` : errorMessage(res.error)} ${JSON.stringify(res.error ?? "")}`.trim());
  return "delivered";
}

export function refuseRequest(client: OpencodeClient, directory: string, log: Logger, ev: AgentRequest): void {
  const id = ev.properties.id;
  const fail = (err: unknown) => log.debug("refusing OpenCode's request failed", { id, error: errorMessage(err) });
  if (ev.type === "permission.asked") {
    log.warn("OpenCode asked for a permission nobody can grant here; refused", {
      permission: ev.properties.permission,
      patterns: ev.properties.patterns.join(" "),
      hint: "allow it in the OpenCode config (`permission`) for unattended use",
    });
    client.permission
      .reply({ requestID: id, directory, reply: "reject", message: "Refused: this OpenCode runs unattended and nobody can approve permission requests." }, { throwOnError: true })
      .catch(fail);
  } else {
    log.warn("OpenCode asked a question nobody can answer here; refused");
    client.question.reject({ requestID: id, directory }, { throwOnError: true }).catch(fail);
  }
}
