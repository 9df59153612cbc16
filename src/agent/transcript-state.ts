// What a turn's transcript remembers between events, and the relaying of parts that every path
// (live events, a snapshot after a reconnect) shares: deduplicated, never moving a tool call back.
import type { Part } from "@opencode-ai/sdk/v2/client";
import { REASONING_CHARS } from "../../convex/lib/constants.ts";
import { stepUsage, toolFileUpdates, toolUpdate, type AgentPart } from "./parts.ts";
import type { TranscriptOptions } from "./transcript.ts";
import { createTurnText, type TurnText } from "./turn-text.ts";

export type TranscriptState = {
  o: TranscriptOptions;
  /** When the prompt went out (a user message created before it is an older one). */
  sentAt: number;
  /** This prompt's user message, once OpenCode admitted it. */
  userMessageId: string | null;
  agentError: unknown;
  userIds: Set<string>;
  assistantIds: Set<string>;
  text: TurnText;
  reasoning: TurnText;
  /** What went out last per part key: an update that changes nothing is not relayed again. */
  sent: Map<string, string>;
  /** How far each tool call got: an older state replayed after a snapshot must not undo a newer one. */
  toolRank: Map<string, number>;
};

const RANK = { pending: 0, running: 1, completed: 2, error: 2 } as const;

export function transcriptState(o: TranscriptOptions): TranscriptState {
  return {
    o,
    sentAt: Number.POSITIVE_INFINITY,
    userMessageId: null,
    agentError: null,
    userIds: new Set(),
    assistantIds: new Set(),
    text: createTurnText("text"),
    reasoning: createTurnText("reasoning"),
    sent: new Map(),
    toolRank: new Map(),
  };
}

export function emitPart(s: TranscriptState, u: AgentPart): void {
  if (u.kind === "tool") {
    const rank = RANK[u.tool.status];
    if (rank < (s.toolRank.get(u.key) ?? -1)) return;
    s.toolRank.set(u.key, rank);
  }
  if (u.kind !== "reasoning") {
    const json = JSON.stringify(u);
    if (s.sent.get(u.key) === json) return;
    s.sent.set(u.key, json);
  } else if (u.append === "") return;
  s.o.emitPart(u);
}

// The backend keeps REASONING_CHARS of a part; one more tells it that some was cut.
export function emitReasoning(s: TranscriptState, partId: string, text: string): void {
  emitPart(s, { key: partId, kind: "reasoning", append: text.slice(0, REASONING_CHARS + 1) });
}

export function ofAssistant(s: TranscriptState, messageId: string): boolean {
  return s.userMessageId !== null && !s.userIds.has(messageId);
}

export function admit(s: TranscriptState, id: string): void {
  if (s.userMessageId) return;
  s.userMessageId = id;
  s.o.log.debug("prompt admitted", { messageId: id });
  s.o.onAdmit();
}

/** Both answer streams learn each part's type (only `text` parts are the answer). */
export function noteType(s: TranscriptState, part: Part): void {
  s.text.noteType(part.id, part.type);
  s.reasoning.noteType(part.id, part.type);
}

/** Parts other than the answer's text: relayed once the prompt is admitted, for assistant messages. */
export function onOtherPart(s: TranscriptState, part: Part): void {
  if (!ofAssistant(s, part.messageID)) return;
  if (part.type === "tool") {
    emitPart(s, toolUpdate(part, s.o.folders));
    for (const u of toolFileUpdates(part, s.o.folders)) emitPart(s, u);
  }
  else if (part.type === "step-finish") emitPart(s, stepUsage(part));
  else if (part.type === "reasoning" && part.time?.end) {
    s.reasoning.recordFinal(part.id, part.text);
    if (!s.reasoning.isClosed(part.id)) emitReasoning(s, part.id, s.reasoning.close(part.id, part.text));
  }
}

