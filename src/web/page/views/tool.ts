// A tool call as a collapsible row: its state, name and title (or input) on one line; input,
// output excerpt and error inside. All text, never HTML: tool input and output are agent data.
import { h, type ComponentChild } from "preact";
import type { FileChange, TodoItem, ToolCall, ToolStatus } from "../../../backend/api.ts";
import { Diff } from "./diff.ts";

const STATUS_MARK: Record<ToolStatus, string> = { pending: "…", running: "⟳", completed: "✓", error: "✗" };

export function ToolRow({ tool }: { tool: ToolCall }): ComponentChild {
  const cut = (f: "input" | "output" | "error") => (tool.truncated.includes(f) ? h("span", { class: "muted" }, " (cut)") : null);
  return h(
    "details",
    { class: `tool ${tool.status}`, "data-tool": tool.name, "data-status": tool.status },
    h(
      "summary",
      null,
      h("span", { class: "tool-state", title: tool.status }, STATUS_MARK[tool.status]),
      h("span", { class: "tool-name" }, tool.name),
      h("span", { class: "tool-title" }, tool.title || tool.input),
    ),
    h("div", { class: "tool-body" },
      h("div", { class: "label" }, "input", cut("input")),
      h("pre", { class: "tool-input" }, tool.input),
      tool.output !== null ? [h("div", { class: "label" }, "output", cut("output")), h("pre", { class: "tool-output" }, tool.output)] : null,
      tool.error !== null ? [h("div", { class: "label" }, "error", cut("error")), h("pre", { class: "tool-error" }, tool.error)] : null,
    ),
  );
}

export function FileRow({ file }: { file: FileChange }): ComponentChild {
  return h(
    "details",
    { class: `file ${file.status}`, open: true, "data-path": file.path },
    h(
      "summary",
      null,
      h("span", { class: "file-status" }, file.status),
      h("span", { class: "file-path" }, file.path),
      h("span", { class: "adds" }, `+${file.additions}`),
      h("span", { class: "dels" }, `−${file.deletions}`),
    ),
    h(Diff, { patch: file.patch, truncated: file.patchTruncated }),
  );
}

const TODO_MARK: Record<string, string> = { completed: "☑", in_progress: "◐", cancelled: "☒" };

export function TodoList({ todos }: { todos: TodoItem[] }): ComponentChild {
  return h(
    "div",
    { class: "todos" },
    h("div", { class: "label" }, "todo"),
    h("ul", null, todos.map((t, i) => h("li", { key: i, "data-status": t.status }, h("span", { class: "todo-mark" }, TODO_MARK[t.status] ?? "☐"), " ", t.content))),
  );
}
