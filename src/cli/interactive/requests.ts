// Permission requests, questions and budget requests of a running answer, asked inline, one at
// a time, in the order they were raised (requests:list, followed live). While one is asked the
// answer's drawing waits (the agent is waiting for it too), so the prompt line is not torn. A
// request answered elsewhere (`reply`, the web page), expired or rejected by the worker while it
// is asked ends the question with what happened.
import { BackendRefused } from "../../backend/admin-client.ts";
import type { RequestView } from "../../backend/api.ts";
import { errorMessage } from "../../util/errors.ts";
import { safeLine, safeText } from "../../util/terminal-text.ts";
import { autoReply } from "../chat-requests.ts";
import { parseAnswer, promptFor, questionLines, type ParsedAnswer } from "./request-answers.ts";
import type { Session } from "./session.ts";

/** Lines of a request's detail (the tool input) shown above the question. */
const DETAIL_LINES = 4;

function show(s: Session, r: RequestView): void {
  const c = s.screen.palette;
  // A question's title is its text, shown with its options (request-answers.ts).
  if (r.kind !== "question") s.screen.line(`${c.warn("?")} ${c.bold(safeLine(r.title))}`);
  if (r.permission || r.patterns?.length) {
    s.screen.line(c.dim(`  ${safeLine(r.permission ?? "")}${r.patterns?.length ? `: ${r.patterns.map(safeLine).join(", ")}` : ""}`));
  }
  const detail = r.detail ? safeText(r.detail).split("\n").slice(0, DETAIL_LINES) : [];
  for (const l of detail) s.screen.line(c.dim(`  ${l}`));
}

/** How a request ended, as one line. */
export function outcome(r: RequestView, elsewhere: boolean): string {
  const by = elsewhere ? " elsewhere" : "";
  if (r.status === "expired") return `expired${r.reason ? `: ${safeLine(r.reason)}` : ""}`;
  if (r.status === "rejected" && r.reason && !r.reply) return `rejected: ${safeLine(r.reason)}`;
  if (r.kind === "budget") return r.reply === "reject" ? `stopped${by}` : `continued${by}`;
  if (r.reply === "reject") return `rejected${by}${r.message ? `: ${safeLine(r.message)}` : ""}`;
  if (r.answers) return `answered${by}: ${r.answers.map((a) => a.map(safeLine).join(", ")).join(" / ")}`;
  return `${r.reply === "always" ? "always allowed" : "allowed once"}${by}`;
}

async function send(s: Session, r: RequestView, a: ParsedAnswer, note = ""): Promise<void> {
  const c = s.screen.palette;
  try {
    await s.admin.reply(r.requestId, a.reply, { ...(a.message ? { message: a.message } : {}), ...(a.answers ? { answers: a.answers } : {}), worker: s.state.worker.workerId });
    s.screen.line(c.dim(`  → ${outcome({ ...r, status: a.reply === "reject" ? "rejected" : "answered", reply: a.reply, message: a.message, answers: a.answers }, false)}${note}`));
  } catch (e) {
    if (!(e instanceof BackendRefused)) throw e;
    s.screen.line(c.warn(`  → ${safeLine(e.message)}`));
  }
}

type Asked = "done" | "interrupted";

/** Asks one request until it is answered here or ends elsewhere. */
async function ask(s: Session, r: RequestView, latest: () => RequestView | undefined): Promise<Asked> {
  const c = s.screen.palette;
  show(s, r);
  // --permissions: every permission request and question of the session is answered so, as in one-shot chat.
  const auto = autoReply(r, s.ctx.flags.permissions);
  if (auto) {
    await send(s, r, auto, " (--permissions)");
    return "done";
  }
  const answers: string[][] = [];
  let shown = -1;
  for (;;) {
    const q = r.kind === "question" ? r.questions?.[answers.length] : undefined;
    if (q && shown !== answers.length) {
      shown = answers.length;
      for (const l of questionLines(q)) s.screen.line(l);
    }
    const res = await s.input.readLine(promptFor(r, answers.length), false);
    const now = latest();
    if (now && now.status !== "pending") {
      s.screen.line(c.dim(`  → ${outcome(now, true)}`));
      return "done";
    }
    if (res.kind === "interrupt") return "interrupted";
    if (res.kind !== "line") {
      s.screen.line(c.dim(`  left for later: opencode-orchestrator reply ${r.requestId} …`));
      return "done";
    }
    const parsed = parseAnswer(r, res.text, answers);
    if ("problem" in parsed) {
      s.screen.line(c.warn(`  ${parsed.problem}`));
      continue;
    }
    if ("more" in parsed) continue;
    await send(s, r, parsed);
    return "done";
  }
}

export type RequestAsker = { idle: () => Promise<void>; stop: () => void };

/** Follows the answer's requests and asks each pending one; idle() resolves when none is being asked. */
export function askRequests(s: Session, messageId: string): RequestAsker {
  const latest = new Map<string, RequestView>();
  const queue: string[] = [];
  let asking: string | undefined;
  let busy: Promise<void> | undefined;
  let stopped = false;
  const pump = async () => {
    while (!stopped && queue.length > 0) {
      const id = queue.shift()!;
      const r = latest.get(id);
      if (!r || r.status !== "pending") continue;
      asking = id;
      const how = await ask(s, r, () => latest.get(id)).catch((e: unknown) => {
        s.screen.line(s.screen.palette.error(`  could not answer: ${safeLine(errorMessage(e))}`));
        return "done" as const;
      });
      asking = undefined;
      // Ctrl+C cancels the answer; its other requests end with it.
      if (how === "interrupted") stopped = true;
    }
  };
  const kick = () => {
    if (busy || stopped || queue.length === 0) return;
    busy = pump().finally(() => {
      busy = undefined;
      kick();
    });
  };
  const onList = (list: RequestView[]) => {
    for (const r of list) {
      const seen = latest.has(r.requestId);
      latest.set(r.requestId, r);
      if (!seen && r.status === "pending") queue.push(r.requestId);
    }
    if (asking && latest.get(asking)?.status !== "pending") s.input.closeLine();
    kick();
  };
  let watching: (() => void) | undefined = s.admin.watchRequests(messageId, onList, (e) => {
    s.screen.line(s.screen.palette.warn(`cannot follow this answer's permission requests: ${safeLine(e.message)}`));
  });
  const unsubscribe = () => {
    watching?.();
    watching = undefined;
  };
  return {
    idle: () => busy ?? Promise.resolve(),
    stop() {
      stopped = true;
      unsubscribe();
      if (asking) s.input.closeLine();
    },
  };
}
