// A turn's typed parts (see PartUpdate/TurnPart in src/backend/api.ts): their validators, how a
// batch's part changes are stored, and how a reader gets the parts changed since what it has.
import { v, type Infer } from "convex/values";
import {
  FILE_PATCH_CHARS,
  MAX_OUTPUT_BATCH_CHARS,
  MAX_PART_UPDATES,
  MAX_PARTS_PER_READ,
  MAX_TODOS,
  REASONING_CHARS,
  TOOL_INPUT_CHARS,
  TOOL_OUTPUT_CHARS,
} from "./constants";
import { fail } from "./errors";
import type { Doc, MutationCtx, QueryCtx } from "./server";
import { addSpend } from "./spend";

export const toolStatusValidator = v.union(v.literal("pending"), v.literal("running"), v.literal("completed"), v.literal("error"));
const truncatedField = v.union(v.literal("input"), v.literal("output"), v.literal("error"));
const toolFields = {
  name: v.string(),
  callId: v.string(),
  status: toolStatusValidator,
  title: v.union(v.string(), v.null()),
  input: v.string(),
  output: v.union(v.string(), v.null()),
  error: v.union(v.string(), v.null()),
  truncated: v.array(truncatedField),
};
export const toolValidator = v.object({ ...toolFields, statuses: v.array(toolStatusValidator) });
export const fileValidator = v.object({
  path: v.string(),
  status: v.union(v.literal("added"), v.literal("modified"), v.literal("deleted")),
  additions: v.number(),
  deletions: v.number(),
  patch: v.string(),
  patchTruncated: v.boolean(),
});
export const todoValidator = v.object({ content: v.string(), status: v.string(), priority: v.string() });
export const usageValidator = v.object({
  scope: v.union(v.literal("step"), v.literal("message")),
  input: v.number(),
  output: v.number(),
  reasoning: v.number(),
  cacheRead: v.number(),
  cacheWrite: v.number(),
  cost: v.number(),
});
export const partKindValidator = v.union(
  v.literal("text"),
  v.literal("reasoning"),
  v.literal("tool"),
  v.literal("file"),
  v.literal("todo"),
  v.literal("usage"),
);

export const partUpdateValidator = v.union(
  v.object({ key: v.string(), kind: v.literal("text"), start: v.number(), end: v.number() }),
  v.object({ key: v.string(), kind: v.literal("reasoning"), append: v.string() }),
  v.object({ key: v.string(), kind: v.literal("tool"), tool: v.object(toolFields) }),
  v.object({ key: v.string(), kind: v.literal("file"), file: fileValidator }),
  v.object({ key: v.string(), kind: v.literal("todo"), todos: v.array(todoValidator) }),
  v.object({ key: v.string(), kind: v.literal("usage"), usage: usageValidator }),
);
export type PartUpdate = Infer<typeof partUpdateValidator>;

/** The caps every stored part keeps, checked here so a worker cannot store more than a reader expects. */
function checkUpdate(u: PartUpdate): void {
  const over = (what: string, n: number, cap: number) => n > cap && fail("INVALID", `Part ${u.key}: ${what} is ${n} long; the limit is ${cap}.`);
  if (u.key === "" || u.key.length > 300) fail("INVALID", "A part key must be 1–300 characters.");
  if (u.kind === "text" && !(Number.isInteger(u.start) && Number.isInteger(u.end) && 0 <= u.start && u.start <= u.end)) {
    fail("INVALID", `Part ${u.key}: text range ${u.start}–${u.end} is not a range of character offsets.`);
  }
  if (u.kind === "tool") {
    over("the tool input", u.tool.input.length, TOOL_INPUT_CHARS);
    over("the tool output", (u.tool.output ?? "").length, TOOL_OUTPUT_CHARS);
    over("the tool error", (u.tool.error ?? "").length, TOOL_OUTPUT_CHARS);
    over("the tool title", (u.tool.title ?? "").length, TOOL_INPUT_CHARS);
  }
  if (u.kind === "file") over("the patch", u.file.patch.length, FILE_PATCH_CHARS);
  if (u.kind === "todo") over("the todo list", u.todos.length, MAX_TODOS);
  // Reasoning past REASONING_CHARS is dropped when stored (and the part marked truncated).
  if (u.kind === "reasoning") over("the reasoning batch", u.append.length, MAX_OUTPUT_BATCH_CHARS);
}

export function checkUpdates(updates: PartUpdate[]): void {
  if (updates.length > MAX_PART_UPDATES) fail("INVALID", `Too many part changes in one batch (${updates.length}; the limit is ${MAX_PART_UPDATES}).`);
  for (const u of updates) checkUpdate(u);
}

/** The stored fields a change sets, given the part as stored so far (or null for a new part). */
function applied(u: PartUpdate, old: Doc<"turnParts"> | null) {
  switch (u.kind) {
    case "text":
      return { start: old?.start ?? u.start, end: Math.max(old?.end ?? u.end, u.end) };
    case "reasoning": {
      const have = old?.text ?? "";
      const room = Math.max(0, REASONING_CHARS - have.length);
      return { text: have + u.append.slice(0, room), truncated: (old?.truncated ?? false) || u.append.length > room };
    }
    case "tool": {
      const seen = old?.tool?.statuses ?? [];
      const statuses = seen.at(-1) === u.tool.status ? seen : [...seen, u.tool.status];
      return { tool: { ...u.tool, statuses } };
    }
    case "file":
      return { file: u.file };
    case "todo":
      return { todos: u.todos };
    case "usage":
      return { usage: u.usage };
  }
}

/** Stores one batch's part changes (the batch's `seq` marks them as new for readers). */
export async function storeParts(ctx: MutationCtx, message: Doc<"messages">, seq: number, updates: PartUpdate[]): Promise<number> {
  let count = message.partCount ?? 0;
  let spent = 0;
  for (const u of updates) {
    const old = await ctx.db
      .query("turnParts")
      .withIndex("by_message_key", (q) => q.eq("messageId", message._id).eq("key", u.key))
      .unique();
    if (old && old.kind !== u.kind) fail("INVALID", `Part ${u.key} is a ${old.kind} part, not ${u.kind}.`);
    // A model call's cost counts toward the worker's day (max_daily_cost) once, as it is reported.
    if (u.kind === "usage" && u.usage.scope === "step") spent += u.usage.cost - (old?.usage?.cost ?? 0);
    if (old) await ctx.db.patch(old._id, { ...applied(u, old), seq });
    else await ctx.db.insert("turnParts", { messageId: message._id, key: u.key, kind: u.kind, order: count++, seq, ...applied(u, null) });
  }
  await addSpend(ctx, message.workerId, spent, Date.now());
  return count;
}

function view(p: Doc<"turnParts">) {
  const base = { key: p.key, order: p.order, seq: p.seq };
  switch (p.kind) {
    case "text":
      return { ...base, kind: "text" as const, start: p.start ?? 0, end: p.end ?? 0 };
    case "reasoning":
      return { ...base, kind: "reasoning" as const, text: p.text ?? "", truncated: p.truncated ?? false };
    case "tool":
      return { ...base, kind: "tool" as const, tool: p.tool! };
    case "file":
      return { ...base, kind: "file" as const, file: p.file! };
    case "todo":
      return { ...base, kind: "todo" as const, todos: p.todos ?? [] };
    case "usage":
      return { ...base, kind: "usage" as const, usage: p.usage! };
  }
}

/**
 * Parts changed after batch `afterSeq`, in part order. A long answer may have more than one read
 * returns: then whole batches are returned up to `throughSeq` and the reader asks again.
 */
export async function partsSince(ctx: QueryCtx, message: Doc<"messages">, afterSeq: number) {
  const rows = await ctx.db
    .query("turnParts")
    .withIndex("by_message_seq", (q) => q.eq("messageId", message._id).gt("seq", afterSeq))
    .take(MAX_PARTS_PER_READ + 1);
  let throughSeq = Math.max(afterSeq, message.nextSeq - 1);
  let kept = rows;
  if (rows.length > MAX_PARTS_PER_READ) {
    // One batch carries at most MAX_PART_UPDATES < MAX_PARTS_PER_READ parts, so cutting at the
    // last batch boundary always keeps at least one whole batch.
    const last = rows[MAX_PARTS_PER_READ - 1]!.seq;
    kept = rows.filter((r) => r.seq < last);
    throughSeq = last - 1;
  }
  return { parts: kept.map(view).sort((a, b) => a.order - b.order), throughSeq };
}
