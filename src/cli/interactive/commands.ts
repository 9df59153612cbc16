// The slash commands of an interactive chat. A line starting with `//` is a prompt that starts
// with `/` (a path, say), sent without the first slash.
import type { ModelInfo, SessionSummary } from "../../backend/api.ts";
import { RuntimeFailure } from "../../util/errors.ts";
import { safeLine } from "../../util/terminal-text.ts";
import type { Session } from "./session.ts";

/** How many of the worker's sessions /sessions offers (newest activity first). */
const SESSIONS_SHOWN = 20;

export const SLASH_COMMANDS: { name: string; args?: string; does: string }[] = [
  { name: "/new", does: "start a new session with this worker (with your next prompt)" },
  { name: "/sessions", does: "list this worker's recent sessions and switch to one" },
  { name: "/model", args: "[provider/model|default]", does: "list the worker's models, or choose one for the next prompts" },
  { name: "/help", does: "this list" },
  { name: "/exit", does: "leave (as Ctrl+D does)" },
];

function help(s: Session): void {
  const c = s.screen.palette;
  for (const cmd of SLASH_COMMANDS) s.screen.line(`  ${c.bold(cmd.name)}${cmd.args ? ` ${cmd.args}` : ""}  ${c.dim(cmd.does)}`);
  s.screen.line(c.dim("  //text sends a prompt starting with /text. Ctrl+C cancels a running answer; Ctrl+D leaves."));
}

const modelName = (m: ModelInfo) => `${m.providerId}/${m.modelId}`;

async function model(s: Session, arg: string): Promise<void> {
  const c = s.screen.palette;
  // The worker publishes its models when it starts: read them fresh.
  const worker = (await s.admin.list()).find((w) => w.workerId === s.state.worker.workerId) ?? s.state.worker;
  s.state.worker = worker;
  if (arg === "default") {
    s.state.model = undefined;
    s.screen.line(c.dim("the next prompts use the worker's default model"));
    return;
  }
  if (arg === "") {
    if (worker.models.length === 0) s.screen.line(c.dim(`worker ${safeLine(worker.name)} has not published its models yet`));
    for (const m of worker.models) {
      const mark = modelName(m) === s.state.model ? c.ok("*") : " ";
      s.screen.line(`${mark} ${safeLine(modelName(m))}  ${c.dim(safeLine(m.name))}`);
    }
    s.screen.line(c.dim(`now: ${s.state.model ? safeLine(s.state.model) : "the worker's default"}; /model provider/model chooses one`));
    return;
  }
  if (worker.models.length > 0 && !worker.models.some((m) => modelName(m) === arg)) {
    throw new RuntimeFailure(`worker ${safeLine(worker.name)} has no model ${safeLine(arg)}`, {
      hint: `Its models: ${worker.models.map((m) => safeLine(modelName(m))).join(", ")}`,
    });
  }
  s.state.model = arg;
  s.screen.line(c.dim(`the next prompts use ${safeLine(arg)}`));
}

/** One read of the worker's sessions, over the live-update socket (the web page's query). */
export function listSessions(s: Session, ms = s.admin.timeoutMs ?? 30_000): Promise<SessionSummary[]> {
  return new Promise((resolve, reject) => {
    let stop: (() => void) | undefined;
    let done = false;
    const settle = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // After the current call: the first answer may come while watchSessions is still returning.
      queueMicrotask(() => stop?.());
      f();
    };
    const timer = setTimeout(() => settle(() => reject(new RuntimeFailure(`the backend at ${s.url} did not list the sessions within ${ms / 1000} s`))), ms);
    stop = s.admin.watchSessions(s.state.worker.workerId, (list) => settle(() => resolve(list)), (e) => settle(() => reject(e)));
  });
}

const ago = (t: number) => {
  const m = Math.round((Date.now() - t) / 60_000);
  return m < 1 ? "just now" : m < 60 ? `${m} min ago` : m < 48 * 60 ? `${Math.round(m / 60)} h ago` : `${Math.round(m / 1440)} days ago`;
};

async function sessions(s: Session): Promise<void> {
  const c = s.screen.palette;
  const list = (await listSessions(s)).slice(0, SESSIONS_SHOWN);
  if (list.length === 0) {
    s.screen.line(c.dim("no sessions with this worker yet"));
    return;
  }
  list.forEach((x, i) => {
    const mark = x.sessionId === s.state.sessionId ? c.ok("*") : " ";
    s.screen.line(`${mark}${String(i + 1).padStart(3)}. ${safeLine(x.title)}  ${c.dim(`${ago(x.lastActivityAt)} · ${safeLine(x.sessionId)}`)}`);
  });
  const r = await s.input.readLine(`switch to (1-${list.length}, Enter keeps this one): `, false);
  if (r.kind !== "line" || r.text.trim() === "") return;
  const picked = list[Number(r.text.trim()) - 1];
  if (!picked || !/^\d+$/.test(r.text.trim())) throw new RuntimeFailure(`"${safeLine(r.text.trim())}" is not a number from 1 to ${list.length}`);
  s.state.sessionId = picked.sessionId;
  s.screen.line(c.dim(`session ${safeLine(picked.sessionId)}: ${safeLine(picked.title)}`));
}

/** Runs one slash command; "leave" ends the session. */
export async function runCommand(s: Session, line: string): Promise<"leave" | undefined> {
  const [name = "", ...rest] = line.split(/\s+/);
  const arg = rest.join(" ").trim();
  switch (name) {
    case "/help":
    case "/?":
      help(s);
      return;
    case "/new":
      s.state.sessionId = undefined;
      s.screen.line(s.screen.palette.dim("a new session starts with your next prompt"));
      return;
    case "/model":
      return void (await model(s, arg));
    case "/sessions":
      return void (await sessions(s));
    case "/exit":
    case "/quit":
      return "leave";
    default:
      throw new RuntimeFailure(`unknown command ${safeLine(name)}`, { hint: "/help lists the commands; //text sends a prompt that starts with /text." });
  }
}
