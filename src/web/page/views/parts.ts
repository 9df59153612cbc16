// An answer's parts rendered, in the order they appeared (turn.ts says which): text (markdown),
// reasoning, tool calls, file changes and the todo list; usage as one line per answer.
import { h, type ComponentChild } from "preact";
import type { Usage } from "../../../backend/api.ts";
import { renderMarkdown } from "../markdown.ts";
import { formatCost, type Part } from "../turn.ts";
import { FileRow, TodoList, ToolRow } from "./tool.ts";

export function UsageLine({ u }: { u: Usage }): ComponentChild {
  const n = (x: number) => x.toLocaleString("en-US");
  const cache = u.cacheRead + u.cacheWrite > 0 ? ` · cache ${n(u.cacheRead)} read / ${n(u.cacheWrite)} write` : "";
  const reasoning = u.reasoning > 0 ? ` · ${n(u.reasoning)} reasoning` : "";
  return h("div", { class: "usage" }, `${n(u.input)} in · ${n(u.output)} out${reasoning}${cache} tokens · ${formatCost(u.cost)}`);
}

export function PartView({ part }: { part: Part }): ComponentChild {
  switch (part.kind) {
    case "text":
      // Sanitised HTML only: see markdown.ts.
      return h("div", { class: "md", dangerouslySetInnerHTML: { __html: renderMarkdown(part.text) } });
    case "reasoning":
      return h("details", { class: "reasoning" }, h("summary", null, "Thinking"), h("div", { class: "reasoning-text" }, part.text));
    case "tool":
      return h(ToolRow, { tool: part.tool });
    case "file":
      return h(FileRow, { file: part.file });
    case "todo":
      return h(TodoList, { todos: part.todos });
  }
}
