// OpenCode's parts and events as the typed part changes a turn relays (PartUpdate in
// backend/api.ts): tool calls with a one-line input and capped output, changed files (named
// relative to the worker's folder) with capped patches, the todo list, and tokens/cost per step
// and per message.
import { realpathSync } from "node:fs";
import { isAbsolute, relative, sep } from "node:path";
import type { AssistantMessage, SnapshotFileDiff, StepFinishPart, Todo, ToolPart } from "@opencode-ai/sdk/v2/client";
import type { PartUpdate, ToolCall, Usage } from "../backend/api.ts";
import { FILE_PATCH_CHARS, MAX_TODOS, TOOL_INPUT_CHARS, TOOL_OUTPUT_CHARS } from "../../convex/lib/constants.ts";

/**
 * A part change as the turn reports it. A message's usage says whether the turn goes on after it
 * (`more`: it ended asking for tool calls, so another model call follows); the relay leaves that out.
 */
export type AgentPart = Exclude<PartUpdate, { kind: "text" | "usage" }> | (Extract<PartUpdate, { kind: "usage" }> & { more?: boolean });

function cap(s: string, max: number): { text: string; cut: boolean } {
  return s.length <= max ? { text: s, cut: false } : { text: s.slice(0, max), cut: true };
}

/** The input people recognise a call by: the command, the file, the pattern; else the JSON on one line. */
function inputLine(input: Record<string, unknown>): string {
  for (const k of ["command", "filePath", "path", "pattern", "url", "description"]) {
    if (typeof input[k] === "string" && input[k]) return (input[k] as string).replace(/\s+/g, " ").trim();
  }
  return JSON.stringify(input ?? {});
}

/**
 * OpenCode titles a file tool by the path relative to its worktree: "/" for a folder outside git
 * (`tmp/x/a.ts`), the repository's root otherwise. A title that is just the path is named the way
 * file changes are, so a tool line and the file it changed read the same.
 */
function toolTitle(st: ToolPart["state"], folders: readonly string[]): string | null {
  const title = "title" in st && typeof st.title === "string" && st.title ? st.title : null;
  const file = st.input?.filePath;
  if (title && typeof file === "string" && isAbsolute(file) && file.endsWith(`${sep}${title}`)) return shownPath(file, folders);
  return title;
}

export function toolUpdate(part: ToolPart, folders: readonly string[]): AgentPart {
  const st = part.state;
  const truncated: ToolCall["truncated"] = [];
  const keep = (field: "input" | "output" | "error", s: string, max: number) => {
    const c = cap(s, max);
    if (c.cut) truncated.push(field);
    return c.text;
  };
  const input = keep("input", inputLine(st.input), TOOL_INPUT_CHARS);
  const shown = toolTitle(st, folders);
  const title = shown === null ? null : cap(shown, TOOL_INPUT_CHARS).text;
  const output = st.status === "completed" ? keep("output", st.output ?? "", TOOL_OUTPUT_CHARS) : null;
  const error = st.status === "error" ? keep("error", st.error ?? "", TOOL_OUTPUT_CHARS) : null;
  return { key: part.id, kind: "tool", tool: { name: part.tool, callId: part.callID, status: st.status, title, input, output, error, truncated } };
}

/**
 * A changed file's path as people read it: relative to the worker's folder when it lies inside it
 * (as OpenCode's own tool titles are), absolute when outside. `folders` are the folder's
 * spellings (as configured, and its real path: OpenCode may report either).
 */
export function shownPath(file: string, folders: readonly string[]): string {
  if (!isAbsolute(file)) return file;
  for (const folder of folders) {
    const rel = relative(folder, file);
    if (rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)) return rel;
  }
  return file;
}

/** The folder as configured and, when a symlink leads to it, its real path. */
export function folderSpellings(folder: string): string[] {
  try {
    const real = realpathSync(folder);
    return real === folder ? [folder] : [folder, real];
  } catch {
    return [folder];
  }
}

/** The patch's header lines (`Index:`, `---`, `+++`, before the first hunk) name the file as `path` does. */
function patchShownAs(patch: string, file: string, shown: string): string {
  if (file === shown) return patch;
  const hunk = patch.indexOf("\n@@");
  const head = hunk < 0 ? patch : patch.slice(0, hunk);
  const renamed = head.replace(/^(Index: |--- |\+\+\+ )(.*?)(\t.*)?$/gm, (line, p: string, name: string, rest = "") =>
    name === file ? `${p}${shown}${rest}` : line,
  );
  return renamed + patch.slice(head.length);
}

/**
 * The file an edit or write changed, from the tool's completed state. `edit` reports the change
 * itself (`metadata.filediff`: file, patch, additions, deletions); `write` reports only whether
 * the file existed, so a new file is shown whole and an overwritten one only by its path.
 * (OpenCode's `session.diff` is not used: it covers the whole session, not the turn, and needs
 * the folder to be a git repository.)
 */
export function toolFileUpdates(part: ToolPart, folders: readonly string[]): AgentPart[] {
  const st = part.state;
  if (st.status !== "completed") return [];
  const meta = (st.metadata ?? {}) as { filediff?: Partial<SnapshotFileDiff>; exists?: unknown };
  const d = meta.filediff;
  if (d && typeof d.file === "string" && typeof d.additions === "number" && typeof d.deletions === "number") {
    const status = d.status ?? (st.input.oldString === "" ? "added" : "modified");
    return fileUpdates([{ file: d.file, patch: typeof d.patch === "string" ? d.patch : "", additions: d.additions, deletions: d.deletions, status }], folders);
  }
  if (part.tool === "write" && typeof st.input.filePath === "string" && typeof st.input.content === "string") {
    const file = st.input.filePath;
    if (meta.exists === true) return fileUpdates([{ file, patch: "", additions: 0, deletions: 0, status: "modified" }], folders);
    const lines = st.input.content.split("\n");
    if (lines.at(-1) === "") lines.pop();
    const patch = `--- /dev/null\n+++ ${file}\n@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}\n`).join("")}`;
    return fileUpdates([{ file, patch, additions: lines.length, deletions: 0, status: "added" }], folders);
  }
  return [];
}

export function fileUpdates(diff: SnapshotFileDiff[], folders: readonly string[]): AgentPart[] {
  return diff
    .filter((d) => typeof d.file === "string" && d.file !== "")
    .map((d) => {
      const path = shownPath(d.file!, folders);
      const patch = cap(patchShownAs(d.patch ?? "", d.file!, path), FILE_PATCH_CHARS);
      const status = d.status ?? "modified";
      return {
        key: `file:${path}`,
        kind: "file",
        file: { path, status, additions: d.additions, deletions: d.deletions, patch: patch.text, patchTruncated: patch.cut },
      };
    });
}

export function todoUpdate(todos: Todo[]): AgentPart {
  return {
    key: "todo",
    kind: "todo",
    todos: todos.slice(0, MAX_TODOS).map((t) => ({ content: t.content, status: t.status, priority: t.priority ?? "" })),
  };
}

function usageOf(scope: Usage["scope"], x: { tokens: AssistantMessage["tokens"]; cost: number }): Usage {
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  return {
    scope,
    input: n(x.tokens?.input),
    output: n(x.tokens?.output),
    reasoning: n(x.tokens?.reasoning),
    cacheRead: n(x.tokens?.cache?.read),
    cacheWrite: n(x.tokens?.cache?.write),
    cost: n(x.cost),
  };
}

export function stepUsage(part: StepFinishPart): AgentPart {
  return { key: `usage:${part.id}`, kind: "usage", usage: usageOf("step", part) };
}

/** An assistant message's totals, once it is closed (OpenCode adds its steps up). */
export function messageUsage(info: AssistantMessage): AgentPart {
  return { key: `usage:${info.id}`, kind: "usage", usage: usageOf("message", info), ...(info.finish === "tool-calls" ? { more: true } : {}) };
}
