// Person-side listing of a worker's chat sessions, newest activity first, for the web page.
// Internal like every person-side function: only the admin key reads them.
import { v } from "convex/values";
import { DEFAULT_SESSION_TITLE, MAX_TITLE_CHARS } from "./lib/constants";
import { fail } from "./lib/errors";
import { resolveWorker } from "./lib/people";
import { internalQuery, type Doc, type QueryCtx } from "./lib/server";

/** Sessions one sessions:list answer returns unless the caller asks for fewer. */
export const SESSIONS_LIST_DEFAULT = 50;
/** The most sessions one answer may return, so a listing stays a bounded read. */
export const SESSIONS_LIST_MAX = 200;
/** Longest title a listing shows (a first prompt is cut to this, with an ellipsis). */
export const SESSION_TITLE_CHARS = 80;

export function shortTitle(text: string): string {
  const line = text.trim().split("\n")[0]!.trim();
  return line.length > SESSION_TITLE_CHARS ? line.slice(0, SESSION_TITLE_CHARS - 1) + "…" : line;
}

/** The stored title, or (still the default) the session's first prompt: one indexed read. */
async function titleOf(ctx: QueryCtx, s: Doc<"sessions">): Promise<string> {
  if (s.title !== DEFAULT_SESSION_TITLE) return shortTitle(s.title.slice(0, MAX_TITLE_CHARS));
  const first = await ctx.db
    .query("messages")
    .withIndex("by_session", (q) => q.eq("sessionId", s._id))
    .first();
  return first?.role === "user" ? shortTitle(first.text.slice(0, SESSION_TITLE_CHARS * 4)) || s.title : s.title;
}

export const list = internalQuery({
  args: { worker: v.string(), limit: v.optional(v.number()) },
  handler: async (ctx, { worker: ref, limit }) => {
    const n = limit ?? SESSIONS_LIST_DEFAULT;
    if (!Number.isInteger(n) || n < 1 || n > SESSIONS_LIST_MAX) fail("INVALID", `limit must be a whole number from 1 to ${SESSIONS_LIST_MAX}, got ${n}.`);
    const worker = await resolveWorker(ctx, ref);
    const rows = await ctx.db
      .query("sessions")
      .withIndex("by_worker_activity", (q) => q.eq("workerId", worker.workerId))
      .order("desc")
      .take(n);
    return await Promise.all(
      rows.map(async (s) => ({
        sessionId: s._id as string,
        title: await titleOf(ctx, s),
        createdAt: s.createdAt,
        lastActivityAt: s.lastActivityAt ?? s.createdAt,
      })),
    );
  },
});
