// One prompt and its answer in an interactive chat: send it (to the session, or a new one), then
// follow the answer with chat-follow, as the one-shot chat does. Ctrl+C arrives as a key (the
// terminal is in raw mode) and is handed to chat-follow as the SIGINT it already handles:
// the 1st press cancels the answer, a 2nd stops waiting for it.
import { BackendRefused } from "../../backend/admin-client.ts";
import { safeLine } from "../../util/terminal-text.ts";
import { noteIfNotServing } from "../chat.ts";
import { followAnswer, type Renderer } from "../chat-follow.ts";
import { rememberSession } from "../chat-sessions.ts";
import type { CommandContext } from "../command-spec.ts";
import { askRequests } from "./requests.ts";
import type { Session } from "./session.ts";
import { turnView } from "./turn-view.ts";

/** A prompt for a worker that is not running waits silently otherwise: say so, as one-shot chat does. */
async function noteWorker(s: Session): Promise<void> {
  const now = (await s.admin.list()).find((w) => w.workerId === s.state.worker.workerId);
  if (!now) return; // sending says what happened to it
  s.state.worker = now;
  noteIfNotServing(now, { ...s.ctx, stderr: (line) => void s.screen.notice(s.screen.palette.warn(line)) });
}

async function send(s: Session, text: string): Promise<{ sessionId: string; messageId: string }> {
  const { admin, state, screen } = s;
  const workerId = state.worker.workerId;
  const fresh = async () => {
    const id = (await admin.createSession(workerId, state.title ?? text.slice(0, 60))).sessionId;
    state.title = undefined;
    screen.line(screen.palette.dim(`session ${safeLine(id)} (new)`));
    return id;
  };
  let sessionId = state.sessionId ?? (await fresh());
  let sent;
  try {
    sent = await admin.send(sessionId, text, workerId, state.model);
  } catch (e) {
    // A continued session may be gone (the backend lost its data): start a new one.
    if (!state.sessionId || !(e instanceof BackendRefused && e.code === "NOT_FOUND")) throw e;
    sessionId = await fresh();
    sent = await admin.send(sessionId, text, workerId, state.model);
  }
  state.sessionId = sessionId;
  rememberSession(s.url, workerId, sessionId);
  return { sessionId, messageId: sent.messageId };
}

export async function runTurn(s: Session, text: string): Promise<void> {
  const { ctx, screen } = s;
  let pressed = 0;
  let relay: ((count: number) => void) | undefined;
  // Listening starts before the prompt is sent: a press while sending cancels the answer once it exists.
  const stopKeys = s.input.onInterrupt((n) => {
    pressed = n;
    relay?.(n);
  });
  let stopAsking = () => {};
  try {
    await noteWorker(s);
    const sent = await send(s, text);
    const followCtx: CommandContext = {
      ...ctx,
      stderr: (line) => void screen.notice(screen.palette.dim(line)),
      onSignal: (handler) => {
        // The terminal closing: stop waiting (the answer goes on; it stays in the session).
        const stopProcess = ctx.onSignal((sig) => handler(sig.signal === "SIGHUP" ? { signal: "SIGINT", count: 2 } : sig));
        relay = (count) => handler({ signal: "SIGINT", count });
        if (pressed > 0) relay(pressed);
        return () => {
          relay = undefined;
          stopProcess();
        };
      },
    };
    const asker = askRequests(s, sent.messageId);
    stopAsking = asker.stop;
    const draw = turnView(s.admin, sent.messageId, screen);
    // While a request is asked the agent waits for it: the answer is drawn again after.
    const view: Renderer = async (v, final) => {
      // An ended answer has nothing left to ask: a question still open is left for `reply`.
      if (final) asker.stop();
      await asker.idle();
      return draw(v, final);
    };
    const followed = { messageId: sent.messageId, sessionId: sent.sessionId, url: s.url, workerId: s.state.worker.workerId };
    const { view: final } = await followAnswer(s.admin, followCtx, followed, view);
    if (final && final.status !== "completed") {
      screen.line(screen.palette.warn(`answer ${final.status}${final.reason ? `: ${safeLine(final.reason)}` : ""}`));
    }
  } finally {
    stopAsking();
    stopKeys();
  }
}
