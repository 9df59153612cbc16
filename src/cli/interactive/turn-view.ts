// One answer on the terminal, drawn from the very events `chat --json` prints (docs/chat-json.md;
// read back from its lines, so the events are defined once): the text as it streams, reasoning
// dimmed, a line per tool call, `path +a −r` per changed file, the todo list when it changes, and
// the tokens and cost when the answer ends. Permission requests and questions: requests.ts. The
// agent is untrusted: all it wrote passes through safeText/safeLine.
import type { AdminClient } from "../../backend/admin-client.ts";
import type { TodoItem } from "../../backend/api.ts";
import { safeLine, safeText } from "../../util/terminal-text.ts";
import type { Renderer } from "../chat-follow.ts";
import { jsonRenderer } from "../chat-json.ts";
import { usageLine, type UsageEvent } from "./usage-line.ts";
import type { Screen } from "./screen.ts";

/** An event as docs/chat-json.md describes it. */
export type TurnEvent = { type: string; part?: string } & Record<string, unknown>;

type ToolEvent = { part: string; name: string; status: string; title: string | null; input: string; error: string | null };
type FileEvent = { path: string; status: string; additions: number; deletions: number };

/** Wide characters take two columns: a line holding one is not rewritten in place. */
const NARROW = /^[\u0000-\u10ff\u2000-\u2bff]*$/;

function toolLine(screen: Screen, t: ToolEvent): { text: string; narrow: boolean } {
  const c = screen.palette;
  const mark = t.status === "completed" ? "✓" : t.status === "error" ? "✗" : "…";
  const error = t.status === "error" && t.error ? `  ${safeLine(t.error.split("\n")[0] ?? "")}` : "";
  const plain = screen.fit(`⚙ ${safeLine(t.name)} ${safeLine(t.title || t.input)}`, mark.length + 2);
  const colored = t.status === "error" ? c.error(mark) : t.status === "completed" ? c.ok(mark) : c.dim(mark);
  return { text: `${c.dim(plain)}  ${colored}${error ? c.error(error) : ""}`, narrow: NARROW.test(plain + error) };
}

function todoLines(screen: Screen, todos: TodoItem[]): string[] {
  const c = screen.palette;
  const box = (s: string) => (s === "completed" ? c.ok("☑") : s === "in_progress" ? c.info("▸") : s === "cancelled" ? c.dim("☒") : "☐");
  return [c.dim("todo:"), ...todos.map((t) => `  ${box(t.status)} ${safeLine(t.content)}`)];
}

export function turnView(admin: AdminClient, messageId: string, screen: Screen): Renderer {
  const c = screen.palette;
  const events: TurnEvent[] = [];
  const json = jsonRenderer(admin, messageId, (line) => {
    events.push(JSON.parse(line) as TurnEvent);
    return true;
  });
  let streaming: string | undefined;
  /** A lone CR at the end of a text piece may be half of a CRLF: held back until the next piece. */
  let heldCr = "";
  const usage = new Map<string, UsageEvent>();
  const toolShown = new Map<string, string>();

  function stream(ev: TurnEvent, style: (s: string) => string): boolean {
    if (streaming !== ev.part) {
      screen.endLine();
      streaming = ev.part;
      heldCr = "";
    }
    let text = heldCr + String(ev.text);
    heldCr = text.endsWith("\r") ? "\r" : "";
    if (heldCr) text = text.slice(0, -1);
    return screen.write(style(safeText(text)));
  }

  function tool(t: ToolEvent): boolean {
    if (t.status === "pending" || toolShown.get(t.part) === t.status) return true;
    const { text, narrow } = toolLine(screen, t);
    const had = toolShown.has(t.part);
    toolShown.set(t.part, t.status);
    streaming = undefined;
    const key = narrow ? `tool:${t.part}` : undefined;
    return had && key ? screen.replace(key, text) : screen.line(text, key);
  }

  function draw(ev: TurnEvent): boolean {
    switch (ev.type) {
      case "text":
        return stream(ev, (s) => s);
      case "reasoning":
        return stream(ev, c.dim);
      case "tool":
        return tool(ev as unknown as ToolEvent);
      case "file": {
        const f = ev as unknown as FileEvent;
        streaming = undefined;
        const sign = f.status === "added" ? c.ok("A") : f.status === "deleted" ? c.error("D") : c.warn("M");
        return screen.line(`${sign} ${safeLine(f.path)} ${c.ok(`+${f.additions}`)} ${c.error(`−${f.deletions}`)}`);
      }
      case "todo":
        streaming = undefined;
        return todoLines(screen, (ev.todos as TodoItem[]) ?? []).every((l) => screen.line(l));
      case "usage":
        usage.set(String(ev.part), ev as unknown as UsageEvent);
        return true;
      case "end":
        screen.endLine();
        return [...usage.values()].length === 0 || screen.line(c.dim(usageLine([...usage.values()])));
      default:
        // Permission requests and questions are asked from requests:list (requests.ts).
        return true;
    }
  }

  return async (view, final) => {
    events.length = 0;
    await json(view, final);
    return events.splice(0).every(draw);
  };
}
