// `chat --worker W` on a terminal with no prompt: a session with one worker. Prompts are read
// with line editing, each answer streams with its tool calls, file changes, todos and usage, and
// permission requests and questions are asked inline. Ctrl+C cancels a running answer and keeps
// the session; at an empty prompt it says how to leave, and a second press leaves; Ctrl+D leaves.
import { connectAdmin, type AdminClient } from "../../backend/admin-client.ts";
import type { WorkerSummary } from "../../backend/api.ts";
import { stdoutColors } from "../../util/colors.ts";
import { EXIT, OrchestratorError } from "../../util/errors.ts";
import { safeLine, safeText } from "../../util/terminal-text.ts";
import { findWorker } from "../chat.ts";
import { rememberedSession } from "../chat-sessions.ts";
import type { CommandContext } from "../command-spec.ts";
import { DEFAULT_ADMIN_TIMEOUT_MS, type chatOptions } from "../command-table.ts";
import { resolvePersonTarget } from "../up-target.ts";
import { listSessions, runCommand } from "./commands.ts";
import { createScreen, type Screen } from "./screen.ts";
import { terminalInput, type TerminalInput } from "./terminal-input.ts";
import { runTurn } from "./turn.ts";

export type ChatContext = CommandContext<typeof chatOptions>;

/** What the session knows; /new, /model and /sessions change it. */
export type SessionState = {
  worker: WorkerSummary;
  /** The session prompts go to; undefined: a new one is made with the next prompt. */
  sessionId: string | undefined;
  /** provider/model for the next prompts (/model); undefined: the worker's default. */
  model: string | undefined;
  /** Title for the next new session (--title), else the prompt's start. */
  title: string | undefined;
};

/** Everything a turn or a slash command works with. */
export type Session = {
  ctx: ChatContext;
  admin: AdminClient;
  url: string;
  input: TerminalInput;
  screen: Screen;
  state: SessionState;
};

/** Shows a failure the session survives (the backend refused, the answer vanished) the way src/index.ts would. */
export function showFailure(s: Session, e: unknown): void {
  if (!(e instanceof OrchestratorError)) throw e;
  const c = s.screen.palette;
  s.screen.notice(`${c.error("error:")} ${safeText(e.message)}`);
  if (e.hint) s.screen.notice(c.dim(safeText(e.hint)));
}

/** How long the banner waits for the continued session's title before it goes without. */
const BANNER_WAIT_MS = 3_000;

/** The continued session's title, so the person knows which conversation goes on; none if it cannot be read. */
async function titleOf(s: Session, sessionId: string): Promise<string | undefined> {
  try {
    return (await listSessions(s, BANNER_WAIT_MS)).find((x) => x.sessionId === sessionId)?.title;
  } catch {
    return undefined; // the first prompt says what is wrong with the backend, if anything
  }
}

async function banner(s: Session): Promise<void> {
  const c = s.screen.palette;
  const { worker, sessionId } = s.state;
  const title = sessionId ? await titleOf(s, sessionId) : undefined;
  const where = sessionId
    ? `continuing session ${safeLine(sessionId)}${title ? `: ${safeLine(title)}` : ""}`
    : "a new session starts with your first prompt";
  s.screen.line(`${c.bold(`chat with ${safeLine(worker.name)}`)} ${c.dim(`(${worker.status}; ${where})`)}`);
  s.screen.line(c.dim("/help lists commands · Ctrl+C cancels an answer · Ctrl+D leaves"));
}

/** Reads prompts until the person leaves; each line is a slash command or a prompt. */
async function loop(s: Session, leaving: () => boolean): Promise<number> {
  let interrupted = false;
  for (;;) {
    const r = await s.input.readLine("> ");
    if (leaving()) return EXIT.failure;
    if (r.kind === "eof" || r.kind === "closed") return EXIT.ok;
    if (r.kind === "interrupt") {
      // As in shells and REPLs: Ctrl+C drops what was typed; on an empty line it says how to
      // leave, and a second one leaves.
      if (r.typed) {
        interrupted = false;
        continue;
      }
      if (interrupted) return EXIT.ok;
      interrupted = true;
      s.screen.line(s.screen.palette.dim("(press Ctrl+C again or Ctrl+D to leave)"));
      continue;
    }
    interrupted = false;
    const text = r.text.trim();
    if (text === "") continue;
    try {
      if (text.startsWith("/") && !text.startsWith("//")) {
        if ((await runCommand(s, text)) === "leave") return EXIT.ok;
      } else {
        await runTurn(s, text.startsWith("//") ? text.slice(1) : text);
      }
    } catch (e) {
      showFailure(s, e);
    }
    if (leaving()) return EXIT.failure;
  }
}

export async function runInteractive(ctx: ChatContext, ref: string): Promise<number> {
  const target = resolvePersonTarget({ url: ctx.flags.url, adminKey: ctx.flags["admin-key"] }, ctx.stderr);
  const admin = connectAdmin(target.url, target.adminKey, { timeoutMs: (ctx.flags.timeout ?? DEFAULT_ADMIN_TIMEOUT_MS / 1000) * 1000 });
  const palette = stdoutColors();
  const screen = createScreen(ctx.write, palette, { columns: () => process.stdout.columns, rewrite: palette.enabled });
  const input = terminalInput(process.stdin, process.stdout);
  let leaving = false;
  const leave = () => {
    leaving = true;
    input.closeLine();
  };
  // A signal from outside (kill, the terminal closing) ends the session; a running answer
  // handles it first (chat-follow cancels it on SIGINT/SIGTERM). So does a closed stdout.
  const stopSignals = ctx.onSignal(leave);
  void ctx.stdoutClosed.then(leave);
  try {
    const worker = await findWorker(admin, ref, target.url);
    const sessionId = ctx.flags.new ? undefined : (ctx.flags.session ?? rememberedSession(target.url, worker.workerId));
    const s: Session = { ctx, admin, url: target.url, input, screen, state: { worker, sessionId, model: ctx.flags.model, title: ctx.flags.title } };
    await banner(s);
    return await loop(s, () => leaving);
  } finally {
    stopSignals();
    input.close();
    await admin.close();
  }
}
