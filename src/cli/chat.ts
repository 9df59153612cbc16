// `chat`: a first, non-interactive client. Sends one prompt to a worker and streams the
// answer to stdout as it arrives (only the answer: it pipes), the session id to stderr.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connectAdmin, type AdminClient } from "../backend/admin-client.ts";
import type { ChatMessageView } from "../backend/api.ts";
import { resolveAdminTarget } from "../config/admin-env.ts";
import { stateDir } from "../config/paths.ts";
import { EXIT, RuntimeFailure, UsageError } from "../util/errors.ts";
import { writeSecureFile } from "../util/secure-file.ts";
import type { CommandContext } from "./command.ts";

const FINAL = new Set(["completed", "failed", "cancelled", "interrupted"]);

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

// The last session per worker and backend, so `chat --worker w "…"` continues a conversation.
const sessionsFile = () => join(stateDir(), "chat-sessions.json");
function loadSessions(): Record<string, string> {
  try {
    return JSON.parse(readFileSync(sessionsFile(), "utf8")) as Record<string, string>;
  } catch {
    return {};
  }
}
function saveSession(key: string, sessionId: string): void {
  const all = loadSessions();
  all[key] = sessionId;
  writeSecureFile(sessionsFile(), JSON.stringify(all, null, 2) + "\n");
}

/** A prompt for a worker that is not running waits silently otherwise: say why on stderr. */
async function noteIfNotServing(admin: AdminClient, worker: string, ctx: CommandContext): Promise<void> {
  let w;
  try {
    w = (await admin.list()).find((x) => x.workerId === worker || x.name === worker);
  } catch {
    return; // only a hint; the answer is what matters
  }
  if (!w) return;
  if (w.approval === "pending") {
    ctx.stderr(`worker "${w.name}" is not approved yet: the answer starts once it is (opencode-orchestrator admin approve ${w.workerId})`);
  } else if (w.status !== "online") {
    ctx.stderr(`worker "${w.name}" is ${w.status}: the answer starts when it is running again`);
  }
}

export async function run(ctx: CommandContext): Promise<number> {
  const worker = str(ctx.flags.worker);
  if (!worker) throw new UsageError("chat needs --worker <worker id or name>", { command: "chat" });
  let prompt = ctx.positionals.join(" ").trim();
  if (prompt === "") {
    if (process.stdin.isTTY) throw new UsageError("no prompt: pass it as an argument or pipe it on stdin", { command: "chat" });
    prompt = (await readStdin()).trim();
    if (prompt === "") throw new UsageError("the prompt on stdin is empty", { command: "chat" });
  }
  const target = resolveAdminTarget({ url: str(ctx.flags.url), adminKey: str(ctx.flags["admin-key"]) });
  const admin = connectAdmin(target.url, target.adminKey);
  const key = `${target.url} ${worker}`;
  try {
    let sessionId = str(ctx.flags.session) ?? (ctx.flags.new ? undefined : loadSessions()[key]);
    if (!sessionId) {
      sessionId = (await admin.createSession(worker, str(ctx.flags.title) ?? prompt.slice(0, 60))).sessionId;
    }
    let sent;
    try {
      sent = await admin.send(sessionId, prompt);
    } catch (e) {
      // A remembered session may be gone (an embedded backend restarted): start a new one.
      if (ctx.flags.session || ctx.flags.new) throw e;
      sessionId = (await admin.createSession(worker, str(ctx.flags.title) ?? prompt.slice(0, 60))).sessionId;
      sent = await admin.send(sessionId, prompt);
    }
    saveSession(key, sessionId);
    ctx.stderr(`session ${sessionId}`);
    const messageId = sent.messageId;
    await noteIfNotServing(admin, worker, ctx);

    let printed = 0;
    let cancelling = false;
    let readerGone = false;
    let releaseSignals = () => {};
    let stopConnectionWatch = () => {};
    const final = await new Promise<ChatMessageView | null>((resolve, reject) => {
      // The reader may go away (`chat … | head`): stop quietly, as pipes do, and leave the
      // answer to finish on the worker.
      const stopReading = () => {
        if (readerGone) return;
        readerGone = true;
        unsubscribe();
        resolve(null);
      };
      void ctx.stdoutClosed.then(stopReading);
      const unsubscribe = admin.watchMessage(
        messageId,
        (view) => {
          if (!view || readerGone) return;
          if (view.text.length > printed) {
            const text = view.text.slice(printed);
            printed = view.text.length;
            if (!ctx.write(text)) return stopReading();
          }
          if (view.status && FINAL.has(view.status)) {
            unsubscribe();
            resolve(view);
          }
        },
        (e) => {
          unsubscribe();
          reject(e);
        },
      );
      // A backend that goes away mid-answer: say so once, and again when it is back.
      let lostTimer: ReturnType<typeof setTimeout> | undefined;
      let saidLost = false;
      const stopWatchingConnection = admin.watchConnection((connected) => {
        if (!connected) {
          lostTimer ??= setTimeout(() => {
            saidLost = true;
            ctx.stderr(`lost the connection to ${target.url}; reconnecting… (Ctrl+C cancels)`);
          }, 5_000);
        } else {
          if (lostTimer) clearTimeout(lostTimer);
          lostTimer = undefined;
          if (saidLost) ctx.stderr("reconnected");
          saidLost = false;
        }
      });
      stopConnectionWatch = () => {
        if (lostTimer) clearTimeout(lostTimer);
        stopWatchingConnection();
      };
      releaseSignals = ctx.onSignal((s) => {
        if (s.signal === "SIGHUP") return;
        if (s.count === 1 && !cancelling) {
          cancelling = true;
          ctx.stderr("cancelling the answer… (Ctrl+C again to stop waiting)");
          admin.cancel(messageId).catch((e) => ctx.stderr(`could not cancel: ${e instanceof Error ? e.message : String(e)}`));
        } else if (s.count >= 2) {
          unsubscribe();
          reject(new RuntimeFailure("stopped waiting; the answer may still be running", { hint: `message ${messageId}` }));
        }
      });
    }).finally(() => {
      stopConnectionWatch();
      releaseSignals();
    });
    if (final === null) return EXIT.ok;
    if (printed > 0 && !final.text.endsWith("\n")) ctx.write("\n");
    if (final.status === "completed") return EXIT.ok;
    ctx.stderr(`answer ${final.status}${final.reason ? `: ${final.reason}` : ""}`);
    return EXIT.failure;
  } finally {
    await admin.close();
  }
}
