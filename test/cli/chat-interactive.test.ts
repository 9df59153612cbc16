// The interactive chat on a real pseudo-terminal: the real CLI (binary, and the Node bundle
// once), a real `dev` worker with real OpenCode and the stub model, the embedded backend. Keys are
// typed on the terminal; what a person would read is matched. SLOW answers are paced by the test
// (the gate), never by the clock.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Running } from "../support/proc.ts";
import { CTRL_C, CTRL_D, ENTER, startOnPty, type PtyProcess } from "../support/pty.ts";
import { STUB_PRICED_MODEL, STUB_PRICED_STEP_COST, STUB_PROVIDER } from "../support/opencode-env.ts";
import { CANNED_ANSWER, TOOL_FINAL_ANSWER } from "../support/stub-model.ts";
import { adminEnv, answers, childrenOf, closeDevWorld, startOnlineDev, waitGone } from "../e2e/dev-support.ts";
import { startWorld, type World } from "../support/e2e.ts";

const T = 120_000;
const SLOW_CHUNKS = 5;
const PRICED = `${STUB_PROVIDER}/${STUB_PRICED_MODEL}`;
/** Chunks of a SLOW:<tag> answer past the second wait until the test releases the tag. */
const holds = new Map<string, { wait: Promise<void>; release: () => void }>();
function hold(tag: string) {
  if (!holds.has(tag)) {
    let release!: () => void;
    const wait = new Promise<void>((r) => (release = r));
    holds.set(tag, { wait, release });
  }
  return holds.get(tag)!;
}

let world: World;
let dev: Running;
let worker: { name: string; workerId: string };
let cwd: string;
const ENV_FILE = ".env.local";
const SECRET_LINE = "API_KEY=interactive-test-value";
const ptys: PtyProcess[] = [];

beforeAll(async () => {
  world = await startWorld({
    stub: {
      slowChunks: SLOW_CHUNKS,
      slowChunkGate: (i, r) => {
        const tag = /SLOW:(\w+)/.exec(r.lastUserText)?.[1];
        return tag && i >= 2 ? hold(tag).wait : Promise.resolve();
      },
    },
  });
  const d = await startOnlineDev("binary", world);
  ({ dev, cwd } = d);
  worker = d.worker;
  // OpenCode asks before the agent reads *.env.* files: the inline permission test's file.
  writeFileSync(join(cwd, ENV_FILE), `${SECRET_LINE}\n`);
}, 90_000);

afterAll(async () => {
  for (const h of holds.values()) h.release();
  for (const p of ptys) p.kill();
  await closeDevWorld({ world, dev });
}, 60_000);

function chatOnPty(args: string[] = [], target: "binary" | "node" = "binary"): PtyProcess {
  const p = startOnPty(target, ["chat", "--worker", worker.name, ...args], adminEnv(world));
  ptys.push(p);
  return p;
}

/** Waits for the prompt after `from`, then types a line. */
async function say(p: PtyProcess, line: string, from: number): Promise<number> {
  await p.waitFor(/^> $/m, { from });
  const at = p.mark();
  p.type(line + ENTER);
  return at;
}

const sessionIn = (text: string) => /session (\S+) \(new\)/.exec(text)?.[1];

describe("interactive chat on a terminal", () => {
  test("streams the answer while it runs, shows tokens and cost at the end, Ctrl+D leaves with exit 0", async () => {
    const p = chatOnPty(["--new"]);
    await p.waitFor(new RegExp(`chat with ${worker.name}`));
    const from = await say(p, "SLOW:stream please", 0);
    // Two chunks on the terminal while the third is held: the answer is still running.
    await p.waitFor(/slow 1\. slow 2\. /, { from });
    const sessionId = sessionIn(p.text)!;
    const [running] = await answers(world, sessionId);
    expect(running!.status).toBe("running");
    expect(p.text.slice(from)).not.toContain("slow 3.");
    const afterStream = p.mark();
    hold("stream").release();
    await p.waitFor(/slow 1\. slow 2\. slow 3\. slow 4\. slow 5\. \ntokens: \d+ in · \d+ out · \$\d+(\.\d+)?\n/, { from });
    const [done] = await answers(world, sessionId);
    expect(done!.status).toBe("completed");
    await p.waitFor(/^> $/m, { from: afterStream });
    p.type(CTRL_D);
    expect(await p.exited).toBe(0);
  }, T);

  test("Ctrl+C cancels the running answer and keeps the session: the next prompt is answered in it, and the next chat continues it", async () => {
    const p = chatOnPty(["--new"]);
    const from = await say(p, "SLOW:cancel me", 0);
    await p.waitFor(/slow 2\. /, { from });
    const sessionId = sessionIn(p.text)!;
    p.type(CTRL_C);
    await p.waitFor(/answer cancelled: cancelled on request while running/, { from });
    const next = await say(p, "Say hello", from);
    await p.waitFor(new RegExp(CANNED_ANSWER.slice(0, 40).replace(/\./g, "\\.")), { from: next });
    await p.waitFor(/tokens: /, { from: next });
    // Same session: no new one was made for the second prompt.
    expect(p.text.slice(next)).not.toContain("(new)");
    const [cancelled, hello] = await answers(world, sessionId);
    expect(cancelled!.status).toBe("cancelled");
    expect(hello!.status).toBe("completed");
    expect(hello!.text).toBe(CANNED_ANSWER);
    p.type(CTRL_D);
    expect(await p.exited).toBe(0);

    // Without --new the next chat continues this session, named by its title.
    const again = chatOnPty();
    await again.waitFor(new RegExp(`\\(online; continuing session ${sessionId}: SLOW:cancel me\\)`));
    again.type(CTRL_D);
    expect(await again.exited).toBe(0);
  }, T);

  test("a tool call is one line with its state; /new starts a new session; Ctrl+C twice at an empty prompt leaves", async () => {
    const p = chatOnPty(["--new"]);
    const first = await say(p, "TOOL please", 0);
    await p.waitFor(/⚙ bash .*✓/, { from: first });
    await p.waitFor(new RegExp(TOOL_FINAL_ANSWER.replace(/\./g, "\\.")), { from: first });
    const one = sessionIn(p.text.slice(first))!;
    const cmd = await say(p, "/new", first);
    await p.waitFor(/a new session starts with your next prompt/, { from: cmd });
    const second = await say(p, "Say hello", cmd);
    await p.waitFor(/tokens: /, { from: second });
    const two = sessionIn(p.text.slice(second))!;
    expect(two).not.toBe(one);
    expect((await answers(world, one)).length).toBe(1);
    expect((await answers(world, two)).map((m) => m.text)).toEqual([CANNED_ANSWER]);
    const end = p.mark();
    await p.waitFor(/^> $/m, { from: end - 2 });
    p.type(CTRL_C);
    await p.waitFor(/press Ctrl\+C again or Ctrl\+D to leave/, { from: end });
    p.type(CTRL_C);
    expect(await p.exited).toBe(0);
  }, T);

  test("/help (and again with the up arrow), an unknown command and /sessions keep the session; /sessions switches; a paste is one prompt (Node bundle)", async () => {
    const p = chatOnPty(["--new"], "node");
    const a = await say(p, "/help", 0);
    await p.waitFor(/\/sessions .*\n.*\/model/, { from: a });
    // The up arrow brings back the last line (readline's history).
    await p.waitFor(/^> $/m, { from: a });
    const up = p.mark();
    p.type("\x1b[A");
    await p.waitFor(/\/help$/, { from: up });
    p.type(ENTER);
    await p.waitFor(/\/sessions .*\n.*\/model/, { from: up });
    const b = await say(p, "/nonsense", up);
    await p.waitFor(/error: unknown command \/nonsense/, { from: b });
    const c = await say(p, "ECHO:first-session", b);
    await p.waitFor(/first-session[\s\S]*tokens: /, { from: c });
    const firstId = sessionIn(p.text.slice(c))!;
    const d = await say(p, "/new", c);
    const e = await say(p, "ECHO:second-session", d);
    await p.waitFor(/second-session[\s\S]*tokens: /, { from: e });
    const f = await say(p, "/sessions", e);
    // Newest activity first: the second session, then the first.
    const listed = await p.waitFor(/ 1\. ECHO:second-session.*\n.* 2\. ECHO:first-session.*\n/, { from: f });
    expect(listed[0]).toContain(firstId);
    await p.waitFor(/switch to \(1-\d+, Enter keeps this one\): $/, { from: f });
    p.type("2" + ENTER);
    await p.waitFor(new RegExp(`session ${firstId}: ECHO:first-session`), { from: f });
    // Pasted lines (several at once) make one prompt.
    const g = await say(p, "ECHO:back-in-first\rpasted line", f);
    await p.waitFor(/back-in-first\npasted line\ntokens: /, { from: g });
    expect((await answers(world, firstId)).map((m) => m.text.trim())).toEqual(["first-session", "back-in-first\npasted line"]);
    p.type(CTRL_D);
    expect(await p.exited).toBe(0);
  }, T);

  test("/model lists the worker's models, refuses one it does not have, and runs the next prompts with the chosen one", async () => {
    const deadline = Date.now() + 60_000;
    // dev publishes its models when it starts; wait for them rather than race it.
    while ((await world.admin.list()).find((w) => w.workerId === worker.workerId)!.models.length === 0) {
      if (Date.now() > deadline) throw new Error("the worker published no models");
      await Bun.sleep(100);
    }
    const p = chatOnPty(["--new"]);
    const a = await say(p, "/model", 0);
    await p.waitFor(new RegExp(`  ${PRICED}  Stub Priced\nnow: the worker's default`), { from: a });
    const b = await say(p, "/model stub/no-such-model", a);
    await p.waitFor(new RegExp(`error: worker ${worker.name} has no model stub/no-such-model\nIts models: .*${PRICED}`), { from: b });
    const c = await say(p, `/model ${PRICED}`, b);
    await p.waitFor(new RegExp(`the next prompts use ${PRICED}`), { from: c });
    const before = world.stub.completions().length;
    const d = await say(p, "Say hello", c);
    // The priced model's cost (stub/opencode-env.ts) shows under the answer.
    await p.waitFor(new RegExp(`tokens: 10 in · 20 out · \\$${STUB_PRICED_STEP_COST.toFixed(4).replace(".", "\\.")}\n`), { from: d });
    const asked = world.stub.completions().slice(before);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((q) => q.body.model === STUB_PRICED_MODEL)).toBe(true);
    const e = await say(p, "/model", d);
    await p.waitFor(new RegExp(`\\* ${PRICED}  Stub Priced\nnow: ${PRICED}`), { from: e });
    p.type(CTRL_D);
    expect(await p.exited).toBe(0);
  }, T);

  test("a file the agent writes is one line named relative to the worker's folder, with its +/− counts", async () => {
    const p = chatOnPty(["--new"]);
    const write = `TOOLJSON:write ${JSON.stringify({ filePath: join(cwd, "notes", "interactive.txt"), content: "one\ntwo\n" })}`;
    const a = await say(p, write, 0);
    await p.waitFor(/tokens: /, { from: a });
    expect(readFileSync(join(cwd, "notes", "interactive.txt"), "utf8")).toBe("one\ntwo\n");
    const lines = p.text.slice(a).split("\n");
    // The tool line (OpenCode titles it relative to "/" outside git) names it the same way.
    expect(lines).toContain("⚙ write notes/interactive.txt  ✓");
    expect(lines).toContain("A notes/interactive.txt +2 −0");
    expect(lines.filter((l) => l.startsWith("A "))).toEqual(["A notes/interactive.txt +2 −0"]);
    p.type(CTRL_D);
    expect(await p.exited).toBe(0);
  }, T);

  test("with a prompt argument on a terminal chat stays one-shot: the session line and the answer, no prompt", async () => {
    const p = chatOnPty(["--new", "Say hello"]);
    expect(await p.exited).toBe(0);
    expect(p.text).toMatch(new RegExp(`^session \\S+\n${CANNED_ANSWER.replace(/\./g, "\\.")}\n$`));
  }, T);

  test("the agent reads .env.local: the permission request is asked inline, allowed once, the tool runs and the answer completes; a rejection with a message reaches the agent", async () => {
    const p = chatOnPty(["--new"]);
    const readEnv = `TOOLJSON:read ${JSON.stringify({ filePath: join(cwd, ENV_FILE) })}`;
    const a = await say(p, readEnv, 0);
    await p.waitFor(new RegExp(`\\? read \\S*/${ENV_FILE.replace(".", "\\.")}\\n  read: \\S*${ENV_FILE.replace(".", "\\.")}\\n`), { from: a });
    await p.waitFor(/allow\? \[o\]nce \[a\]lways \[r\]eject \(r MESSAGE says why\): $/, { from: a });
    const sessionId = sessionIn(p.text.slice(a))!;
    const [asked] = await answers(world, sessionId);
    expect(asked!.status).toBe("running");
    p.type("o" + ENTER);
    await p.waitFor(/→ allowed once\n/, { from: a });
    await p.waitFor(new RegExp(`⚙ read .*✓\\n${TOOL_FINAL_ANSWER.replace(/\./g, "\\.")}\\ntokens: `), { from: a });
    const [done] = await answers(world, sessionId);
    expect(done!.status).toBe("completed");
    const [allowed] = await world.admin.listRequests(done!.messageId);
    expect(allowed).toMatchObject({ kind: "permission", permission: "read", status: "answered", reply: "once" });

    // The stub answers a tool result in its history without a tool call: a new session asks again.
    const n = await say(p, "/new", p.text.lastIndexOf("tokens: "));
    const b = await say(p, readEnv, n);
    await p.waitFor(/allow\? \[o\]nce/, { from: b });
    p.type("r not my secrets" + ENTER);
    await p.waitFor(/→ rejected: not my secrets\n/, { from: b });
    // The tool failed with the person's message, and the answer still completes.
    await p.waitFor(/⚙ read .*✗ .*not my secrets/, { from: b });
    await p.waitFor(/tokens: /, { from: b });
    const [rejected] = await answers(world, sessionIn(p.text.slice(b))!);
    expect(rejected!.status).toBe("completed");
    const [refused] = await world.admin.listRequests(rejected!.messageId);
    expect(refused).toMatchObject({ status: "rejected", reply: "reject", message: "not my secrets" });
    p.type(CTRL_D);
    expect(await p.exited).toBe(0);
  }, T);

  test("SIGTERM from outside cancels the running answer and ends the session with exit 1", async () => {
    const p = chatOnPty(["--new"]);
    const from = await say(p, "SLOW:term me", 0);
    await p.waitFor(/slow 2\. /, { from });
    const sessionId = sessionIn(p.text)!;
    const [chatPid] = childrenOf(p.pid);
    process.kill(chatPid!, "SIGTERM");
    await p.waitFor(/answer cancelled: cancelled on request while running/, { from });
    expect(await p.exited).toBe(1);
    const [answer] = await answers(world, sessionId);
    expect(answer!.status).toBe("cancelled");
  }, T);

  test("the terminal closing ends the session and leaves the running answer to finish in its session", async () => {
    const p = chatOnPty(["--new"]);
    const from = await say(p, "SLOW:hangup", 0);
    await p.waitFor(/slow 2\. /, { from });
    const sessionId = sessionIn(p.text)!;
    const [chatPid] = childrenOf(p.pid);
    // script gone: the pty's other end closes and the kernel hangs up on chat.
    p.kill("SIGKILL");
    expect(await waitGone(chatPid!)).toBe(true);
    const [running] = await answers(world, sessionId);
    expect(running!.status).toBe("running");
    hold("hangup").release();
    const done = await world.waitForMessage(running!.messageId);
    expect(done.status).toBe("completed");
  }, T);
});
