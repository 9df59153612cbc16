// A changed file as people read it (parts.ts): relative to the worker's folder when inside it,
// absolute when outside, through either spelling of the folder; the patch's header says the same.
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ToolPart } from "@opencode-ai/sdk/v2/client";
import { fileUpdates, folderSpellings, shownPath, toolFileUpdates, toolUpdate } from "../../src/agent/parts.ts";

describe("shownPath", () => {
  const folders = ["/srv/project"];
  test("inside the folder: relative; outside, the folder itself or a sibling with its name as prefix: absolute", () => {
    expect(shownPath("/srv/project/src/app.ts", folders)).toBe("src/app.ts");
    expect(shownPath("/srv/project/.env", folders)).toBe(".env");
    expect(shownPath("/srv/other/app.ts", folders)).toBe("/srv/other/app.ts");
    expect(shownPath("/srv/project-b/app.ts", folders)).toBe("/srv/project-b/app.ts");
    expect(shownPath("/srv/project", folders)).toBe("/srv/project");
    expect(shownPath("/srv/project/../other/x", folders)).toBe("/srv/project/../other/x");
    expect(shownPath("already/relative.ts", folders)).toBe("already/relative.ts");
  });

  test("a folder reached through a symlink: files under either spelling are relative", () => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), "parts-")));
    mkdirSync(join(base, "real"));
    symlinkSync(join(base, "real"), join(base, "link"));
    const spellings = folderSpellings(join(base, "link"));
    expect(spellings).toEqual([join(base, "link"), join(base, "real")]);
    expect(shownPath(join(base, "real", "a.ts"), spellings)).toBe("a.ts");
    expect(shownPath(join(base, "link", "a.ts"), spellings)).toBe("a.ts");
    expect(folderSpellings(join(base, "gone"))).toEqual([join(base, "gone")]);
  });
});

describe("file updates", () => {
  test("an edit's patch header names the file as the path does; other lines are left alone", () => {
    const patch = "Index: /srv/project/a.ts\n===\n--- /srv/project/a.ts\n+++ /srv/project/a.ts\n@@ -1 +1 @@\n-old /srv/project/a.ts\n+new\n";
    const [u] = fileUpdates([{ file: "/srv/project/a.ts", patch, additions: 1, deletions: 1, status: "modified" }], ["/srv/project"]);
    expect(u).toMatchObject({ key: "file:a.ts", kind: "file", file: { path: "a.ts", additions: 1, deletions: 1 } });
    expect(u!.kind === "file" && u!.file.patch).toBe("Index: a.ts\n===\n--- a.ts\n+++ a.ts\n@@ -1 +1 @@\n-old /srv/project/a.ts\n+new\n");
  });

  test("a new file written outside the folder keeps its absolute path", () => {
    const part = {
      id: "p1", sessionID: "s", messageID: "m", type: "tool", callID: "c", tool: "write",
      state: { status: "completed", input: { filePath: "/tmp/elsewhere.txt", content: "x\n" }, output: "", title: "", metadata: { exists: false }, time: { start: 0, end: 1 } },
    } as unknown as ToolPart;
    const [u] = toolFileUpdates(part, ["/srv/project"]);
    expect(u).toMatchObject({ kind: "file", file: { path: "/tmp/elsewhere.txt", status: "added", additions: 1, patch: "--- /dev/null\n+++ /tmp/elsewhere.txt\n@@ -0,0 +1,1 @@\n+x\n" } });
  });
});

describe("tool titles", () => {
  const tool = (title: string, filePath: unknown) =>
    ({
      id: "p1", sessionID: "s", messageID: "m", type: "tool", callID: "c", tool: "read",
      state: { status: "completed", input: { filePath }, output: "ok", title, metadata: {}, time: { start: 0, end: 1 } },
    }) as unknown as ToolPart;
  const titleOf = (part: ToolPart) => {
    const u = toolUpdate(part, ["/srv/project"]);
    return u.kind === "tool" ? u.tool.title : undefined;
  };
  test("a title that is the file's path relative to OpenCode's worktree is named as file changes are; other titles stay", () => {
    expect(titleOf(tool("srv/project/src/a.ts", "/srv/project/src/a.ts"))).toBe("src/a.ts");
    expect(titleOf(tool("project/src/a.ts", "/srv/project/src/a.ts"))).toBe("src/a.ts");
    expect(titleOf(tool("etc/hosts", "/etc/hosts"))).toBe("/etc/hosts");
    expect(titleOf(tool("Read the config", "/srv/project/a.ts"))).toBe("Read the config");
    expect(titleOf(tool("a.ts", 42))).toBe("a.ts");
  });
});
