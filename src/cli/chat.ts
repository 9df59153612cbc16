// `chat`: a non-interactive client. Sends one prompt to a worker and streams the answer to
// stdout as it arrives (only the answer: it pipes; or with --json the whole turn as NDJSON),
// the session id to stderr.
import { BackendRefused, connectAdmin, type AdminClient } from "../backend/admin-client.ts";
import type { WorkerSummary } from "../backend/api.ts";
import { EXIT, RuntimeFailure, UsageError } from "../util/errors.ts";
import { safeLine } from "../util/terminal-text.ts";
import { followAnswer } from "./chat-follow.ts";
import { chatTags, sendRouted, watchRouting } from "./chat-route.ts";
import { jsonRenderer } from "./chat-json.ts";
import { watchRequests } from "./chat-requests.ts";
import { rememberedSession, rememberSession } from "./chat-sessions.ts";
import type { CommandContext } from "./command-spec.ts";
import { resolvePersonTarget } from "./up-target.ts";
import { DEFAULT_ADMIN_TIMEOUT_MS, type chatOptions } from "./command-table.ts";

type ChatContext = CommandContext<typeof chatOptions>;

/** Far above what the backend takes as one prompt (it names its own limit); only a runaway pipe gets here. */
const MAX_STDIN_BYTES = 4 * 1024 * 1024;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > MAX_STDIN_BYTES) {
      throw new UsageError(`the prompt on stdin is larger than ${MAX_STDIN_BYTES / 1024 / 1024} MB`, { command: "chat" });
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function readPrompt(ctx: ChatContext): Promise<string> {
  const prompt = ctx.positionals.join(" ").trim();
  if (prompt !== "") return prompt;
  if (process.stdin.isTTY) throw new UsageError("no prompt: pass it as an argument or pipe it on stdin", { command: "chat" });
  const piped = (await readStdin()).trim();
  if (piped === "") throw new UsageError("the prompt on stdin is empty", { command: "chat" });
  return piped;
}

/**
 * The worker named on the command line (id or name), as the backend resolves it. Known before
 * any session is chosen, so a prompt is never sent to a session of a worker that does not exist.
 */
export async function findWorker(admin: AdminClient, ref: string, url: string): Promise<WorkerSummary> {
  const workers = await admin.list();
  const byId = workers.find((w) => w.workerId === ref);
  const byName = workers.find((w) => w.name === ref);
  if (byId && byName && byId !== byName) {
    throw new RuntimeFailure(`"${safeLine(ref)}" is both the id of worker "${safeLine(byId.name)}" and the name of worker ${byName.workerId}`, {
      hint: `Use the other worker's id (${byName.workerId}) or this worker's name ("${safeLine(byId.name)}").`,
    });
  }
  const worker = byId ?? byName;
  if (!worker) throw new RuntimeFailure(`no worker with id or name "${safeLine(ref)}" on ${url}`, { hint: "See `opencode-orchestrator admin list`." });
  return worker;
}

/** A prompt for a worker that is not running waits silently otherwise: say why on stderr. */
export function noteIfNotServing(w: WorkerSummary, ctx: ChatContext): void {
  if (w.approval === "pending") {
    ctx.stderr(`worker "${safeLine(w.name)}" is not approved yet: the answer starts once it is (opencode-orchestrator admin approve ${safeLine(w.name)}; its id is ${safeLine(w.workerId)})`);
  } else if (w.status !== "online") {
    ctx.stderr(`worker "${safeLine(w.name)}" is ${w.status}: the answer starts when it is running again`);
  }
}

async function sendPrompt(admin: AdminClient, ctx: ChatContext, worker: WorkerSummary, url: string, prompt: string) {
  const title = ctx.flags.title ?? prompt.slice(0, 60);
  const newSession = async () => (await admin.createSession(worker.workerId, title)).sessionId;
  const explicit = ctx.flags.session;
  const remembered = explicit || ctx.flags.new ? undefined : rememberedSession(url, worker.workerId);
  const sessionId = explicit ?? remembered ?? (await newSession());
  try {
    return { sessionId, sent: await admin.send(sessionId, prompt, worker.workerId, ctx.flags.model) };
  } catch (e) {
    // A remembered session may be gone (the backend lost its data): start a new one.
    if (!remembered || !(e instanceof BackendRefused && e.code === "NOT_FOUND")) throw e;
    const fresh = await newSession();
    return { sessionId: fresh, sent: await admin.send(fresh, prompt, worker.workerId, ctx.flags.model) };
  }
}

export async function run(ctx: ChatContext): Promise<number> {
  const ref = ctx.flags.worker;
  const tags = chatTags(ctx.flags);
  // A person at a terminal with no prompt given: the interactive session (docs: README "Interactive chat").
  // It talks to one worker; a tag session's worker is chosen per routed prompt, so --tag stays one-shot.
  if (!tags && ctx.positionals.length === 0 && !ctx.flags.json && process.stdin.isTTY && process.stdout.isTTY) {
    return (await import("./interactive/session.ts")).runInteractive(ctx, ref!);
  }
  const prompt = await readPrompt(ctx);
  const target = resolvePersonTarget({ url: ctx.flags.url, adminKey: ctx.flags["admin-key"] }, ctx.stderr);
  const admin = connectAdmin(target.url, target.adminKey, { timeoutMs: (ctx.flags.timeout ?? DEFAULT_ADMIN_TIMEOUT_MS / 1000) * 1000 });
  // Ctrl+C while the prompt is being sent must not kill chat and leave the prompt queued: it is
  // remembered, and the answer cancelled as soon as it exists.
  let interrupted = false;
  let releaseEarly = ctx.onSignal((s) => void (interrupted ||= s.signal !== "SIGHUP"));
  let stopNotes = () => {};
  try {
    const worker = tags ? undefined : await findWorker(admin, ref!, target.url);
    const { sessionId, sent } = worker
      ? await sendPrompt(admin, ctx, worker, target.url, prompt)
      : await sendRouted(admin, tags!, { session: ctx.flags.session, title: ctx.flags.title ?? prompt.slice(0, 60), prompt });
    if (worker) rememberSession(target.url, worker.workerId, sessionId);
    ctx.stderr(`session ${safeLine(sessionId)}`);
    if (interrupted) {
      const r = await admin.cancel(sent.messageId, worker?.workerId);
      throw new RuntimeFailure(`interrupted while sending: the answer was ${r.status === "cancelled" ? "cancelled" : `asked to cancel (it is ${r.status})`}`);
    }
    // Following starts (and takes over Ctrl+C) before the note that invites waiting is printed.
    const followed = { messageId: sent.messageId, sessionId, url: target.url, workerId: worker?.workerId };
    if (tags) stopNotes = await watchRouting(admin, ctx, sent.messageId, tags, ctx.flags.json === true);
    const json = ctx.flags.json ? jsonRenderer(admin, sent.messageId, (line) => ctx.write(line)) : undefined;
    const requests = watchRequests(admin, ctx, sent.messageId, { auto: ctx.flags.permissions, ...(ctx.flags.json ? { json: (line) => ctx.write(line) } : {}) });
    const following = followAnswer(admin, ctx, followed, json, requests);
    releaseEarly();
    releaseEarly = () => {};
    if (worker) noteIfNotServing(worker, ctx);
    const { view, printed } = await following;
    if (view === null) return EXIT.ok;
    if (printed > 0 && !view.text.endsWith("\n")) ctx.write("\n");
    if (view.status === "completed") return EXIT.ok;
    ctx.stderr(`answer ${view.status}${view.reason ? `: ${safeLine(view.reason)}` : ""}`);
    return EXIT.failure;
  } finally {
    stopNotes();
    releaseEarly();
    await admin.close();
  }
}
