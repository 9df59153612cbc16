// What a person types at an inline request, and what it means. Permissions: o / a / r, with an
// optional message after r. Questions: option numbers (several with commas when the question
// allows it) or an answer in their own words, one question at a time (questionAnswer, which
// `reply --answer` shares); r rejects. Budget: c / s.
import type { RequestQuestion, RequestReply, RequestView } from "../../backend/api.ts";
import { safeLine, safeText } from "../../util/terminal-text.ts";

export type ParsedAnswer = { reply: RequestReply; message?: string; answers?: string[][] };
/** A question answered, the next one of the same request still to ask. */
type More = { more: true };

/** The prompt line for a request (for a question: its `index`th question, options listed above it). */
export function promptFor(r: RequestView, index: number): string {
  if (r.kind === "budget") return "[c]ontinue or [s]top? ";
  if (r.kind === "permission") return "allow? [o]nce [a]lways [r]eject (r MESSAGE says why): ";
  const q = r.questions?.[index];
  const n = q?.options.length ?? 0;
  const pick = n > 0 ? `1-${n}${q?.multiple ? " (several: 1,3)" : ""} or ` : "";
  return `answer: ${pick}your own words, r rejects: `;
}

/** A question and its numbered options, printed above its prompt line. */
export function questionLines(q: RequestQuestion): string[] {
  const head = `${q.header ? `${safeLine(q.header)}: ` : ""}${safeText(q.question)}`;
  return [...head.split("\n"), ...q.options.map((o, i) => `  ${i + 1}. ${safeLine(o.label)}${o.description ? ` — ${safeLine(o.description)}` : ""}`)];
}

/**
 * One question's answer as typed here or given to `reply --answer` (one rule for both): option
 * numbers — `2`, or `1,3` where the question takes several — pick those options when every
 * number is one of them; anything else is the person's own words, whole (commas and all), so a
 * label with a comma is never split and `16` to "how many?" is an answer, not a wrong option.
 */
export function questionAnswer(q: RequestQuestion, typed: string): string[] | { problem: string } {
  const text = typed.trim();
  if (!/^\d+(\s*,\s*\d+)*$/.test(text)) return [text];
  const picks = [...new Set(text.split(",").map((x) => Number(x.trim())))];
  if (picks.some((p) => p < 1 || p > q.options.length)) return [text];
  if (picks.length > 1 && !q.multiple) return { problem: `this question takes one option (1-${q.options.length})` };
  return picks.map((p) => q.options[p - 1]!.label);
}

/**
 * The meaning of `typed` for request `r`; `answers` collects a question request's answers so
 * far (one per question) and is added to here.
 */
export function parseAnswer(r: RequestView, typed: string, answers: string[][]): ParsedAnswer | More | { problem: string } {
  const text = typed.trim();
  const reject = /^r(?:eject)?(?:\s+(.*))?$/is.exec(text);
  if (r.kind === "budget") {
    if (/^c(ontinue)?$/i.test(text)) return { reply: "once" };
    if (/^s(top)?$/i.test(text)) return { reply: "reject" };
    return { problem: "type c to continue the answer or s to stop it" };
  }
  if (reject) return { reply: "reject", ...(reject[1]?.trim() ? { message: reject[1].trim() } : {}) };
  if (r.kind === "permission") {
    if (/^o(nce)?$/i.test(text)) return { reply: "once" };
    if (/^a(lways)?$/i.test(text)) return { reply: "always" };
    return { problem: "type o (once), a (always) or r (reject, optionally followed by why)" };
  }
  const questions = r.questions ?? [];
  const q = questions[answers.length];
  if (!q || text === "") return { problem: "type an option's number or your answer (r rejects)" };
  const a = questionAnswer(q, text);
  if ("problem" in a) return a;
  answers.push(a);
  return answers.length < questions.length ? { more: true } : { reply: "once", answers: [...answers] };
}
