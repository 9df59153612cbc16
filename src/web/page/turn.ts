// What an answer shows, worked out from its text and parts without touching the DOM (so it is
// tested on its own): text ranges against the streamed text, usage added up per answer.
import type { ChatMessageView, TurnPart, Usage } from "../../backend/api.ts";

export type Part =
  | { kind: "text"; key: string; text: string }
  | { kind: "reasoning"; key: string; text: string }
  | Extract<TurnPart, { kind: "tool" | "file" | "todo" }>;

/**
 * The parts to show. Text parts point into the answer's text, which streams ahead of them:
 * the last text part runs to the end of the text, and text no part claims yet is shown after
 * the others, so an answer streams without waiting for its parts.
 */
export function answerParts(m: ChatMessageView, parts: Record<string, TurnPart> = {}): Part[] {
  const ordered = Object.values(parts)
    // Usage is one line per answer (answerUsage), not a place among the parts.
    .filter((p) => p.kind !== "usage")
    .sort((a, b) => a.order - b.order);
  const out: Part[] = [];
  let covered = 0;
  ordered.forEach((p, i) => {
    if (p.kind === "text") {
      const end = i === ordered.length - 1 ? m.text.length : Math.min(p.end, m.text.length);
      const start = Math.min(p.start, end);
      covered = Math.max(covered, end);
      if (end > start) out.push({ kind: "text", key: p.key, text: m.text.slice(start, end) });
    } else if (p.kind === "reasoning") {
      if (p.text.trim() !== "") out.push({ kind: "reasoning", key: p.key, text: p.text });
    } else if (p.kind === "tool" || p.kind === "file" || p.kind === "todo") out.push(p);
  });
  if (m.text.length > covered) out.push({ kind: "text", key: "tail", text: m.text.slice(covered) });
  return out;
}

/** Tokens and cost of the answer: its messages' totals, or its steps' when no total came yet. */
export function answerUsage(parts: Record<string, TurnPart> = {}): Usage | null {
  const all = Object.values(parts).flatMap((p) => (p.kind === "usage" ? [p.usage] : []));
  const chosen = all.some((u) => u.scope === "message") ? all.filter((u) => u.scope === "message") : all;
  if (chosen.length === 0) return null;
  const sum = (f: (u: Usage) => number) => chosen.reduce((n, u) => n + f(u), 0);
  return {
    scope: "message",
    input: sum((u) => u.input),
    output: sum((u) => u.output),
    reasoning: sum((u) => u.reasoning),
    cacheRead: sum((u) => u.cacheRead),
    cacheWrite: sum((u) => u.cacheWrite),
    cost: sum((u) => u.cost),
  };
}

/** Dollars: cents for ordinary amounts, enough digits that a small model call is not shown as $0. */
export function formatCost(usd: number): string {
  if (usd === 0) return "$0";
  if (usd >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${usd.toFixed(6).replace(/0+$/, "")}`;
}
