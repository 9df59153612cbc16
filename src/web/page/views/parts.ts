// An answer as a list of parts. Today the backend stores an answer's text only; typed parts
// (tool calls, file changes, permission requests) get their own kind and renderer here.
import { h, type ComponentChild } from "preact";
import type { ChatMessageView } from "../../../backend/api.ts";
import { renderMarkdown } from "../markdown.ts";

export type Part = { kind: "text"; text: string };

export function answerParts(m: ChatMessageView): Part[] {
  return m.text === "" ? [] : [{ kind: "text", text: m.text }];
}

export function PartView({ part }: { part: Part }): ComponentChild {
  switch (part.kind) {
    case "text":
      // Sanitised HTML only: see markdown.ts.
      return h("div", { class: "md", dangerouslySetInnerHTML: { __html: renderMarkdown(part.text) } });
  }
}
