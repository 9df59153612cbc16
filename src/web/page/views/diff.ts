// A unified diff, line by line. The patch is already a unified diff (capped by the backend), so
// classifying each line by its first character is all a renderer has to do; a diff library
// would add tens of KiB to the page for word-level highlighting we do not need. Lines are text
// nodes, never HTML: a patch is agent output.
import { h, type ComponentChild } from "preact";

export type DiffLineKind = "add" | "del" | "hunk" | "meta" | "ctx";

export function diffLineKind(line: string): DiffLineKind {
  if (line.startsWith("+++") || line.startsWith("---") || /^(diff |index |Index: |={3,}|\\ No newline)/.test(line)) return "meta";
  if (line.startsWith("@@")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  return "ctx";
}

export function Diff({ patch, truncated }: { patch: string; truncated: boolean }): ComponentChild {
  const lines = patch.replace(/\n$/, "").split("\n");
  return h(
    "pre",
    { class: "diff" },
    lines.map((l, i) => h("span", { key: i, class: `line ${diffLineKind(l)}` }, l, "\n")),
    truncated ? h("span", { class: "line meta" }, "… (patch cut: it is longer than the page keeps)") : null,
  );
}
