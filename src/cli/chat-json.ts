// `chat --json`: the turn as NDJSON on stdout, one event per line, in the order the parts
// appeared (docs/chat-json.md documents every field). On each update of the answer it reads
// only the parts changed since the last read (chat:parts) and prints what is new in them.
import type { AdminClient } from "../backend/admin-client.ts";
import type { ChatMessageView, ToolStatus, TurnPart } from "../backend/api.ts";
import type { Renderer } from "./chat-follow.ts";

type Write = (line: string) => boolean;

/** Per part: characters of text/reasoning printed, statuses of a tool printed, last event printed. */
type Printed = { chars: Map<string, number>; statuses: Map<string, number>; lastEvent: Map<string, string> };

export function jsonRenderer(admin: AdminClient, messageId: string, write: Write): Renderer {
  let throughSeq = -1;
  let text = "";
  const printed: Printed = { chars: new Map(), statuses: new Map(), lastEvent: new Map() };
  const emit = (ev: Record<string, unknown>) => write(`${JSON.stringify(ev)}\n`);

  /** Parts changed since the last read, up to at least batch `seq`. */
  async function readParts(seq: number): Promise<TurnPart[]> {
    const out: TurnPart[] = [];
    while (throughSeq < seq) {
      const r = await admin.parts(messageId, throughSeq);
      if (r.throughSeq <= throughSeq) break; // the view ran ahead of what a read sees; the next update catches up
      throughSeq = r.throughSeq;
      out.push(...r.parts);
    }
    return out;
  }

  return async (view: ChatMessageView, final: boolean) => {
    text = view.text;
    const parts = await readParts(view.outputBatches - 1);
    // Parts read after the view may point at text the view does not have yet.
    if (parts.some((p) => p.kind === "text" && p.end > text.length)) text = (await admin.messageLive(messageId))?.text ?? text;
    for (const p of parts) {
      for (const ev of eventsOf(printed, p, text)) {
        const line = JSON.stringify(ev);
        if (ev.type !== "text" && ev.type !== "reasoning" && printed.lastEvent.get(`${p.key}\u0000${String(ev.status)}`) === line) continue;
        printed.lastEvent.set(`${p.key}\u0000${String(ev.status)}`, line);
        if (!emit(ev)) return false;
      }
    }
    if (final) return emit({ type: "end", status: view.status, reason: view.reason, messageId: view.messageId, sessionId: view.sessionId });
    return true;
  };
}

/** What is new in `p` since it was last printed; `text` is the answer's text as read now. */
function eventsOf(printed: Printed, p: TurnPart, text: string): Record<string, unknown>[] {
  switch (p.kind) {
    case "text": {
      const from = Math.max(printed.chars.get(p.key) ?? p.start, p.start);
      const end = Math.min(p.end, text.length);
      if (end <= from) return [];
      printed.chars.set(p.key, end);
      return [{ type: "text", part: p.key, text: text.slice(from, end) }];
    }
    case "reasoning": {
      const from = printed.chars.get(p.key) ?? 0;
      if (p.text.length <= from) return [];
      printed.chars.set(p.key, p.text.length);
      return [{ type: "reasoning", part: p.key, text: p.text.slice(from), truncated: p.truncated }];
    }
    case "tool":
      return toolEvents(printed, p);
    case "file":
      return [{ type: "file", part: p.key, ...p.file }];
    case "todo":
      return [{ type: "todo", part: p.key, todos: p.todos }];
    case "usage": {
      const { scope, cost, ...tokens } = p.usage;
      return [{ type: "usage", part: p.key, scope, tokens, cost }];
    }
  }
}

function toolEvents(printed: Printed, p: Extract<TurnPart, { kind: "tool" }>): Record<string, unknown>[] {
  const { statuses, ...tool } = p.tool;
  const from = printed.statuses.get(p.key) ?? 0;
  printed.statuses.set(p.key, statuses.length);
  const ev = (status: ToolStatus, last: boolean) => ({
    type: "tool",
    part: p.key,
    ...tool,
    status,
    // What a state before the current one had is not kept: only the current one carries results.
    output: last ? tool.output : null,
    error: last ? tool.error : null,
  });
  const events = statuses.slice(from).map((s, i, all) => ev(s, i === all.length - 1));
  // Same status, new detail (a title, the output): printed again.
  if (events.length === 0) events.push(ev(tool.status, true));
  return events;
}
