// `chat --tag …`: the prompt goes to whichever worker has every tag and the most room; the
// backend routes it (convex/lib/routing.ts). Every `chat --tag` starts a new session unless
// --session names one: remembering the last one per tag set would make parallel scripted
// calls queue behind each other on one worker instead of spreading out.
// While the answer waits or moves, chat says so on stderr (and with --json as events).
import type { AdminClient } from "../backend/admin-client.ts";
import type { ChatMessageView, WorkerSummary } from "../backend/api.ts";
import { checkTagList } from "../config/tags.ts";
import { UsageError } from "../util/errors.ts";
import { safeLine } from "../util/terminal-text.ts";
import type { CommandContext } from "./command-spec.ts";

/** The --tag flags, checked; undefined when chat addresses a worker by --worker. */
export function chatTags(flags: { worker?: string; tag?: string[] }): string[] | undefined {
  const given = flags.tag;
  if (given === undefined || given.length === 0) {
    if (!flags.worker) throw new UsageError("chat needs --worker <worker id or name>, or --tag <tag> (repeatable)", { command: "chat" });
    return undefined;
  }
  if (flags.worker) throw new UsageError("use either --worker or --tag, not both", { command: "chat" });
  const r = checkTagList(given);
  if (!r.ok) throw new UsageError(`--tag: ${r.message}`, { command: "chat", hint: r.fix });
  return r.value;
}

/** Sends the prompt to --session, or to a new session addressed to the tags. */
export async function sendRouted(admin: AdminClient, tags: string[], o: { session?: string; title: string; prompt: string }) {
  const sessionId = o.session ?? (await admin.createSessionForTags(tags, o.title)).sessionId;
  return { sessionId, sent: await admin.send(sessionId, o.prompt) };
}

type Emit = (event: Record<string, unknown>) => void;

/** Why nothing took the prompt, as far as the worker list tells: a typo in a tag reads differently from busy workers. */
export function waitingNote(tags: string[], workers: WorkerSummary[]): string {
  const tagged = workers.filter((w) => w.approval === "approved" && tags.every((t) => (w.tags ?? []).includes(t)));
  const head = `waiting for a worker tagged ${tags.join(", ")}: `;
  if (tagged.length === 0) return `${head}no approved worker has every one of these tags (see \`admin list\`); the answer starts when one has`;
  if (!tagged.some((w) => w.status === "online" && !w.paused)) {
    return `${head}none of ${tagged.map((w) => `"${safeLine(w.name)}"`).join(", ")} is online and not paused; the answer starts when one is`;
  }
  return `${head}every one that has them is busy; the answer starts when one has room`;
}

/**
 * Follows where the answer is: waiting for a worker with the tags, routed to one, moved off a
 * worker that went away. Notes go to stderr; with --json, `waiting`/`routed`/`moved` events to stdout.
 */
export async function watchRouting(admin: AdminClient, ctx: Pick<CommandContext, "stderr" | "write">, messageId: string, tags: string[], json: boolean): Promise<() => void> {
  // Names known up front, so a `routed` event never waits behind the answer's first events.
  const workers = await admin.list();
  const names = new Map(workers.map((w) => [w.workerId, w.name]));
  const emit: Emit = (event) => void (json && ctx.write(`${JSON.stringify(event)}\n`));
  let at: string | null | undefined;
  let moved = false;
  let chain = Promise.resolve();
  const nameOf = async (workerId: string) => {
    if (!names.has(workerId)) for (const w of await admin.list()) names.set(w.workerId, w.name);
    return names.get(workerId) ?? workerId;
  };
  const onView = (view: ChatMessageView | null) => {
    if (!view || view.messageId !== messageId) return;
    chain = chain.then(() => noteChanges(view)).catch(() => {});
  };
  const noteChanges = async (view: ChatMessageView) => {
    if (view.movedFrom && !moved) {
      moved = true;
      ctx.stderr(`the conversation moved: worker "${safeLine(view.movedFrom)}" is gone, so a fresh agent session on another worker answers (context stays behind on "${safeLine(view.movedFrom)}")`);
      emit({ type: "moved", from: view.movedFrom });
    }
    const workerId = view.workerId ?? null;
    if (workerId === at || view.workerId === undefined) return;
    at = workerId;
    if (workerId === null) {
      ctx.stderr(waitingNote(tags, workers));
      return emit({ type: "waiting", tags });
    }
    const worker = await nameOf(workerId);
    ctx.stderr(`routed to worker "${safeLine(worker)}"`);
    emit({ type: "routed", worker, workerId, tags });
  };
  return admin.watchMessage(messageId, onView, () => {});
}
