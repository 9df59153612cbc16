// Follows one answer as it streams: prints its new text, says when the connection to the
// backend drops and comes back, cancels on the first Ctrl+C. It follows only its own message:
// a message that vanishes (the backend restarted without its data) or a view of another
// message ends the chat with an error instead of printing someone else's answer.
import { BackendRefused, type AdminClient } from "../backend/admin-client.ts";
import type { ChatMessageView } from "../backend/api.ts";
import { asError, errorMessage, RuntimeFailure } from "../util/errors.ts";
import { safeLine, safeText } from "../util/terminal-text.ts";
import type { CommandContext } from "./command-spec.ts";

const FINAL = new Set(["completed", "failed", "cancelled", "interrupted"]);
/** A connection that stays lost this long is reported (shorter drops are routine reconnects). */
const LOST_NOTICE_MS = 5_000;

/** `workerId`, when known (chat --worker), must own the message; a routed chat (--tag) follows it wherever it goes. */
export type Followed = { messageId: string; sessionId: string; url: string; workerId?: string };

export class AnswerVanished extends RuntimeFailure {
  constructor(f: Followed, what: string) {
    super(`the answer you are waiting for is gone: ${what}`, {
      hint: `The backend at ${f.url} no longer has message ${f.messageId} of session ${f.sessionId} (restarted without its data?). Send the prompt again.`,
    });
  }
}

/** Why a view cannot be this chat's answer, or undefined when it is. */
function notOurs(f: Followed, view: ChatMessageView | null): string | undefined {
  if (view === null) return "the backend no longer has it";
  if (view.messageId !== f.messageId || view.sessionId !== f.sessionId) {
    return `the backend answered with message ${view.messageId} of session ${view.sessionId}`;
  }
  return undefined;
}

/**
 * Shows one update of the answer; resolves false when the reader of stdout went away. Updates
 * are rendered one at a time, in order, and the last (final) one before the chat ends.
 */
export type Renderer = (view: ChatMessageView, final: boolean) => Promise<boolean>;

/** The answer's text only, as it grows (what a pipe gets). */
function textRenderer(ctx: CommandContext): Renderer & { printed: () => number } {
  let printed = 0;
  const render = async (view: ChatMessageView, final: boolean) => {
    // A trailing CR may be the first half of a CRLF: hold it back until the rest arrives.
    const text = safeText(final || !view.text.endsWith("\r") ? view.text : view.text.slice(0, -1));
    if (text.length <= printed) return true;
    const fresh = text.slice(printed);
    printed = text.length;
    return ctx.write(fresh);
  };
  return Object.assign(render, { printed: () => printed });
}

/** Resolves with the final view, or null when the reader of stdout went away. */
export function followAnswer(
  admin: AdminClient,
  ctx: CommandContext,
  f: Followed,
  custom?: Renderer,
  /** Runs first on each update (the answer's requests, chat-requests.ts); false: stdout went away. */
  before?: Renderer,
): Promise<{ view: ChatMessageView | null; printed: number }> {
  const text = textRenderer(ctx);
  const render = custom ?? text;
  const releases: (() => void)[] = [];
  const release = () => {
    for (const r of releases.splice(0).reverse()) r();
  };
  return new Promise<{ view: ChatMessageView | null; printed: number }>((resolve, reject) => {
    let settled = false;
    let rendering = Promise.resolve();
    const finish = (view: ChatMessageView | null) => {
      if (settled) return;
      settled = true;
      resolve({ view, printed: text.printed() });
    };
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      reject(e);
    };
    // The reader may go away (`chat … | head`): stop quietly, as pipes do, and leave the
    // answer to finish on the worker.
    void ctx.stdoutClosed.then(() => finish(null));
    const onView = (view: ChatMessageView | null) => {
      if (settled) return;
      const wrong = notOurs(f, view);
      if (wrong || !view) return fail(new AnswerVanished(f, wrong ?? "the backend no longer has it"));
      const final = view.status !== null && FINAL.has(view.status);
      rendering = rendering
        .then(async () => {
          if (settled) return;
          if (before && !(await before(view, final))) return finish(null);
          if (!(await render(view, final))) return finish(null);
          if (final) finish(view);
        })
        .catch((e: unknown) => fail(asError(e)));
    };
    releases.push(admin.watchMessage(f.messageId, onView, fail, f.workerId));
    releases.push(watchConnection(admin, ctx, f.url, fail));
    releases.push(onCancelSignals(admin, ctx, f, fail));
  }).finally(release);
}

function watchConnection(admin: AdminClient, ctx: CommandContext, url: string, fail: (e: Error) => void): () => void {
  let lostTimer: ReturnType<typeof setTimeout> | undefined;
  let saidLost = false;
  // The calls before answered, but the live updates come over a socket of their own (a proxy
  // may pass one and not the other): one that never opens is the same silence as no answer.
  let neverOpened: ReturnType<typeof setTimeout> | undefined;
  if (admin.timeoutMs) {
    neverOpened = setTimeout(
      () =>
        fail(
          new RuntimeFailure(`the backend at ${url} answered calls but did not open the live-update connection within ${admin.timeoutMs! / 1000} s`, {
            hint: "A proxy in between must pass WebSocket upgrades (the /api/…/sync path). The prompt was sent; it may still be answered.",
          }),
        ),
      admin.timeoutMs,
    );
  }
  const stop = admin.watchConnection((connected) => {
    if (connected && neverOpened) {
      clearTimeout(neverOpened);
      neverOpened = undefined;
    }
    if (!connected) {
      lostTimer ??= setTimeout(() => {
        saidLost = true;
        ctx.stderr(`lost the connection to ${url}; reconnecting… (Ctrl+C cancels)`);
      }, LOST_NOTICE_MS);
      return;
    }
    if (lostTimer) clearTimeout(lostTimer);
    lostTimer = undefined;
    if (saidLost) ctx.stderr("reconnected");
    saidLost = false;
  });
  return () => {
    if (lostTimer) clearTimeout(lostTimer);
    if (neverOpened) clearTimeout(neverOpened);
    stop();
  };
}

/** 1st Ctrl+C asks the backend to cancel; if it cannot, or on a 2nd, the chat stops waiting. */
function onCancelSignals(admin: AdminClient, ctx: CommandContext, f: Followed, fail: (e: Error) => void): () => void {
  let cancelling = false;
  const stopWaiting = (why: string) =>
    fail(new RuntimeFailure(why, { hint: `message ${f.messageId} of session ${f.sessionId}` }));
  return ctx.onSignal((s) => {
    if (s.signal === "SIGHUP") return;
    if (s.count === 1 && !cancelling) {
      cancelling = true;
      ctx.stderr("cancelling the answer… (Ctrl+C again to stop waiting)");
      admin.cancel(f.messageId, f.workerId).catch((e) => {
        if (e instanceof BackendRefused && e.code === "NOT_FOUND") return fail(new AnswerVanished(f, "the backend no longer has it"));
        // Waiting on cannot end well: the cancel request never reached the backend.
        stopWaiting(`could not cancel the answer: ${safeLine(errorMessage(e))}; stopped waiting, it may still be running`);
      });
    } else if (s.count >= 2) {
      stopWaiting("stopped waiting; the answer may still be running");
    }
  });
}
