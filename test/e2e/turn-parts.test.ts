// A turn's parts end to end: `chat --json` → backend → `dev` → a real OpenCode → the stub
// model. Tool calls stream their states and output, an edit shows up as a file change with its
// patch, a todo list, the stub's token counts as usage; the plain chat still prints only text.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { World } from "../support/e2e.ts";
import type { Running } from "../support/proc.ts";
import { CANNED_ANSWER, REASONING_TEXT, stubFailureMessage, TOOL_FINAL_ANSWER } from "../support/stub-model.ts";
import { answers, chat, closeDevWorld, sessionOf, openDevWorld, chatEvents } from "./dev-support.ts";

const TEST_TIMEOUT = 120_000;

describe("turn parts through chat --json (binary)", () => {
  let world: World;
  let dev: Running;
  let workerId: string;
  let cwd: string;

  beforeAll(async () => {
    ({ world, dev, cwd, worker: { workerId } } = await openDevWorld("binary"));
  }, 60_000);

  afterAll(() => closeDevWorld({ world, dev }), 30_000);

  test("a bash tool call: pending → running → completed with its output; text; usage with the stub's tokens; a last end event", async () => {
    const r = await chat("binary", world, ["--worker", workerId, "--new", "--json", "TOOLCMD:echo parts-test-output"]);
    expect(r.code).toBe(0);
    const evs = chatEvents(r.stdout);
    const tools = evs.filter((e) => e.type === "tool");
    expect(tools.map((e) => e.status)).toEqual(["pending", "running", "completed"]);
    expect(tools.every((e) => e.name === "bash" && e.input === "echo parts-test-output" && e.part === tools[0]!.part)).toBe(true);
    expect(tools.at(-1)!.output).toContain("parts-test-output");
    expect(tools.at(-1)!.truncated).toEqual([]);
    // The tool comes before the final answer's text, which arrives whole across its events.
    const text = evs.filter((e) => e.type === "text");
    expect(text.map((e) => e.text).join("")).toBe(TOOL_FINAL_ANSWER);
    expect(evs.indexOf(tools[0]!)).toBeLessThan(evs.indexOf(text[0]!));
    // The stub reports 10 prompt and 20 completion tokens per model call; two calls here.
    const steps = evs.filter((e) => e.type === "usage" && e.scope === "step");
    expect(steps.length).toBe(2);
    for (const s of steps) expect(s.tokens).toMatchObject({ input: 10, output: 20, reasoning: 0 });
    expect(evs.filter((e) => e.type === "usage" && e.scope === "message").length).toBe(2);
    expect(evs.at(-1)).toMatchObject({ type: "end", status: "completed", reason: null });
    expect(evs.filter((e) => e.type === "end").length).toBe(1);
    // The backend holds the same answer text a plain chat prints.
    const [answer] = await answers(world, sessionOf(r.stderr));
    expect(answer!.text).toBe(TOOL_FINAL_ANSWER);
  }, TEST_TIMEOUT);

  test("an edit shows up as a file change with +/− lines and the patch, named relative to the worker's folder", async () => {
    // An edit with nothing to replace creates the file.
    const args = JSON.stringify({ filePath: join(cwd, "notes.txt"), oldString: "", newString: "first line\nsecond line\n" });
    const r = await chat("binary", world, ["--worker", workerId, "--new", "--json", `TOOLJSON:edit ${args}`]);
    expect(r.code).toBe(0);
    expect(existsSync(join(cwd, "notes.txt"))).toBe(true);
    expect(readFileSync(join(cwd, "notes.txt"), "utf8")).toBe("first line\nsecond line\n");
    const evs = chatEvents(r.stdout);
    const files = evs.filter((e) => e.type === "file");
    expect(files.length).toBeGreaterThanOrEqual(1);
    const f = files.at(-1)!;
    // OpenCode names the file absolutely; people read it as the tool lines name it.
    expect(f.path).toBe("notes.txt");
    expect(f.patch).not.toContain(cwd);
    expect(f.status).toBe("added");
    expect(f.additions).toBe(2);
    expect(f.deletions).toBe(0);
    expect(f.patch).toContain("+second line");
    expect(f.patchTruncated).toBe(false);
    expect(evs.at(-1)).toMatchObject({ type: "end", status: "completed" });

    // A new file written whole (in a subfolder) is listed with its lines as added.
    const w = JSON.stringify({ filePath: join(cwd, "docs", "new.txt"), content: "one\ntwo\nthree\n" });
    const written = chatEvents((await chat("binary", world, ["--worker", workerId, "--new", "--json", `TOOLJSON:write ${w}`])).stdout);
    expect(readFileSync(join(cwd, "docs", "new.txt"), "utf8")).toBe("one\ntwo\nthree\n");
    const added = written.filter((e) => e.type === "file").at(-1)!;
    expect(added).toMatchObject({ path: "docs/new.txt", status: "added", additions: 3, deletions: 0, patch: "--- /dev/null\n+++ docs/new.txt\n@@ -0,0 +1,3 @@\n+one\n+two\n+three\n" });
  }, TEST_TIMEOUT);

  test("a failed answer ends with an end event carrying the reason; exit 1", async () => {
    const r = await chat("binary", world, ["--worker", workerId, "--new", "--json", "please FAIL400 now"]);
    expect(r.code).toBe(1);
    const evs = chatEvents(r.stdout);
    expect(evs.at(-1)).toMatchObject({ type: "end", status: "failed", reason: expect.stringContaining(stubFailureMessage(400)) });
    expect(r.stderr).toContain("answer failed");
  }, TEST_TIMEOUT);

  test("a todo list as the agent writes it", async () => {
    const todos = [
      { id: "1", content: "read the code", status: "completed", priority: "high" },
      { id: "2", content: "write the fix", status: "in_progress", priority: "medium" },
    ];
    const r = await chat("binary", world, ["--worker", workerId, "--new", "--json", `TOOLJSON:todowrite ${JSON.stringify({ todos })}`]);
    expect(r.code).toBe(0);
    const evs = chatEvents(r.stdout);
    const lists = evs.filter((e) => e.type === "todo");
    expect(lists.at(-1)!.todos).toEqual([
      { content: "read the code", status: "completed", priority: "high" },
      { content: "write the fix", status: "in_progress", priority: "medium" },
    ]);
    expect(evs.at(-1)).toMatchObject({ type: "end", status: "completed" });
  }, TEST_TIMEOUT);

  test("without --json stdout still carries only the answer's text", async () => {
    const r = await chat("binary", world, ["--worker", workerId, "--new", "TOOL then answer"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${TOOL_FINAL_ANSWER}\n`);
    const plain = await chat("binary", world, ["--worker", workerId, "--new", "--json", "Say hello"]);
    expect(chatEvents(plain.stdout).filter((e) => e.type === "text").map((e) => e.text).join("")).toBe(CANNED_ANSWER);
  }, TEST_TIMEOUT);

  test("reasoning streams as reasoning events before the answer's text, and stays out of the answer", async () => {
    const r = await chat("binary", world, ["--worker", workerId, "--new", "--json", "THINK then say hello"]);
    expect(r.code).toBe(0);
    const evs = chatEvents(r.stdout);
    const thoughts = evs.filter((e) => e.type === "reasoning");
    expect(thoughts.map((e) => e.text).join("")).toBe(REASONING_TEXT);
    expect(thoughts.every((e) => e.truncated === false)).toBe(true);
    const text = evs.filter((e) => e.type === "text");
    expect(text.map((e) => e.text).join("")).toBe(CANNED_ANSWER);
    expect(evs.indexOf(thoughts[0]!)).toBeLessThan(evs.indexOf(text[0]!));
    const [answer] = await answers(world, sessionOf(r.stderr));
    expect(answer!.text).toBe(CANNED_ANSWER);
  }, TEST_TIMEOUT);
});

describe("turn parts through chat --json (node bundle)", () => {
  let world: World;
  let dev: Running;
  let workerId: string;

  beforeAll(async () => {
    ({ world, dev, worker: { workerId } } = await openDevWorld("node"));
  }, 60_000);

  afterAll(() => closeDevWorld({ world, dev }), 30_000);

  test("the same events under Node: a tool call's states, the text, usage, end", async () => {
    const r = await chat("node", world, ["--worker", workerId, "--new", "--json", "TOOL please"]);
    expect(r.code).toBe(0);
    const evs = chatEvents(r.stdout);
    expect(evs.filter((e) => e.type === "tool").map((e) => e.status)).toEqual(["pending", "running", "completed"]);
    expect(evs.filter((e) => e.type === "text").map((e) => e.text).join("")).toBe(TOOL_FINAL_ANSWER);
    expect(evs.some((e) => e.type === "usage")).toBe(true);
    expect(evs.at(-1)).toMatchObject({ type: "end", status: "completed" });
  }, TEST_TIMEOUT);
});
