// A turn catching up from a snapshot of its session, taken after the event stream reconnected:
// what the lost events would have relayed is relayed from the messages' full texts.
import type { Message, Part } from "@opencode-ai/sdk/v2/client";
import { messageUsage } from "./parts.ts";
import type { SnapshotMessage } from "./transcript.ts";
import { admit, emitPart, emitReasoning, noteType, onOtherPart, type TranscriptState } from "./transcript-state.ts";

/**
 * Applies a snapshot of the session; returns whether the run is over (idle, last assistant
 * message closed), or null when the prompt is not admitted yet.
 */
export function applySnapshot(s: TranscriptState, list: SnapshotMessage[], sessionIdle: boolean): boolean | null {
  let idx = s.userMessageId ? list.findIndex((m) => m.info.id === s.userMessageId) : -1;
  if (idx < 0) idx = list.findIndex((m) => m.info.role === "user" && m.info.time.created >= s.sentAt);
  if (idx < 0) return null; // not admitted yet: live events will show it
  admit(s, list[idx]!.info.id);
  let recovered = 0;
  let last: Message | null = null;
  for (const m of list.slice(idx + 1)) {
    if (m.info.role === "user") break;
    last = m.info;
    s.assistantIds.add(m.info.id);
    if (m.info.error) s.agentError = m.info.error;
    if (m.info.role === "assistant" && m.info.time.completed) emitPart(s, messageUsage(m.info));
    for (const part of m.parts) recovered += snapshotPart(s, part);
  }
  if (recovered) s.o.log.debug("relayed text missed while the event stream was away", { chars: recovered });
  // Idle alone is not the end: between admission and the first step the session is idle
  // too. The run is over when it is idle and its last assistant message is closed.
  return sessionIdle && last?.role === "assistant" && Boolean(last.time.completed || last.error);
}

/** One part of an assistant message in the snapshot; returns the answer text it recovered. */
function snapshotPart(s: TranscriptState, part: Part): number {
  noteType(s, part);
  if (part.type === "reasoning") {
    const missed = s.reasoning.snapshot(part.id, part.text, Boolean(part.time?.end));
    if (missed) emitReasoning(s, part.id, missed);
    return 0;
  }
  if (part.type !== "text") {
    onOtherPart(s, part);
    return 0;
  }
  if (part.ignored) return 0;
  const missing = s.text.snapshot(part.id, part.text, Boolean(part.time?.end));
  if (missing) s.o.emit(missing, part.id);
  return missing.length;
}
