// Things breaking under a running `dev`: OpenCode killed in the middle of an answer, and the
// backend going away and coming back in the middle of one. Messages must end in a final
// state with the right text (never stuck `running`, never doubled) and the worker must keep
// serving afterwards — without restarting `dev`.
import { describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY } from "../support/cli.ts";
import { CANNED_ANSWER, slowAnswerChunks } from "../support/stub-model.ts";
import { alive, childrenOf, opencodePid, startDev, startOnlineDev, waitForText, waitGone, useWorld } from "./dev-support.ts";

const T = 120_000;
// SLOW: 16 chunks 250 ms apart (~4 s): long enough to break something in the middle.
const CHUNKS = 16;
const ANSWER = slowAnswerChunks(CHUNKS).join("");

const world = useWorld({ stub: { slowChunks: CHUNKS, slowChunkDelayMs: 250 } });

describe("dev recovers", () => {
  test("OpenCode killed mid-turn → the message fails with the reason; the next prompt starts a new OpenCode and works", async () => {
    const { worker, dev } = await startOnlineDev("binary", world);
    const { sessionId } = await world.admin.createSession(worker.workerId, "crash");
    const { messageId } = await world.admin.send(sessionId, "SLOW then crash");
    await waitForText(world, messageId);
    const pid = await opencodePid(dev);
    // The OpenCode server is dev's own child (found both ways).
    expect(childrenOf(dev.child.pid!)).toContain(pid);

    process.kill(pid, "SIGKILL");
    const failed = await world.waitForMessage(messageId);
    expect(failed.status).toBe("failed");
    expect(failed.reason).toMatch(/OpenCode exited unexpectedly \(signal SIGKILL\)/);
    expect(ANSWER.startsWith(failed.text)).toBe(true);
    expect(await waitGone(pid)).toBe(true);

    // Same session, same dev: a fresh OpenCode answers.
    const next = await world.admin.send(sessionId, "Say hello");
    const done = await world.waitForMessage(next.messageId);
    expect(done).toMatchObject({ status: "completed", text: CANNED_ANSWER });
    const second = await opencodePid(dev, 2);
    expect(second).not.toBe(pid);
    expect(alive(second)).toBe(true);
    expect(dev.child.exitCode).toBeNull();
  }, T);

  test("backend restarted mid-answer → the worker reconnects; the message ends completed or interrupted, its text never doubled", async () => {
    const { worker, dev } = await startOnlineDev("binary", world);
    const { sessionId } = await world.admin.createSession(worker.workerId, "restart");
    const { messageId } = await world.admin.send(sessionId, "SLOW across a restart");
    await waitForText(world, messageId);
    const request = await world.stub.waitForRequest((q) => q.lastUserText === "SLOW across a restart");
    // The backend goes away while the model is still streaming.
    expect(request.finished).toBe(false);
    await world.backend.restartNetwork({ downMs: 1_500 });
    const end = await world.waitForMessage(messageId);
    expect(["completed", "interrupted"]).toContain(end.status ?? "null");
    if (end.status === "completed") expect(end.text).toBe(ANSWER);
    else {
      expect(end.reason).toBeTruthy();
      expect(ANSWER.startsWith(end.text)).toBe(true);
    }
    // Each piece of the answer at most once.
    expect(end.text.match(/slow 1\. /g)?.length).toBe(1);

    // Still online on the same dev process, and serving.
    const next = await world.admin.send(sessionId, "Say hello");
    const done = await world.waitForMessage(next.messageId);
    expect(done).toMatchObject({ status: "completed", text: CANNED_ANSWER });
    expect(dev.child.exitCode).toBeNull();
  }, T);

  test("OpenCode not on PATH but installed with this project (node_modules/.bin beside dist/): dev uses that copy", async () => {
    const w = await world.addWorker({ approve: true });
    const dev = startDev("binary", world, { cwd: world.project(), token: w.token, env: { PATH: world.project("empty-path-2") } });
    await dev.waitFor(/\bonline\b/, { stream: "stderr" });
    expect(dev.stderr).not.toContain("OpenCode was not found");
    const { sessionId } = await world.admin.createSession(w.workerId, "bundled opencode");
    const { messageId } = await world.admin.send(sessionId, "Say hello");
    expect(await world.waitForMessage(messageId)).toMatchObject({ status: "completed", text: CANNED_ANSWER });
    dev.kill("SIGTERM");
    expect((await dev.exited).code).toBe(0);
  }, T);

  test("OpenCode missing → the answer fails naming how to install it; dev keeps serving", async () => {
    const w = await world.addWorker({ approve: true });
    // An empty PATH, and a copy of the binary with no node_modules/.bin beside it: no `opencode`
    // anywhere (the compiled binary needs nothing else).
    const program = join(world.project("bare-install"), "opencode-orchestrator");
    copyFileSync(BINARY, program);
    chmodSync(program, 0o755);
    const dev = startDev("binary", world, { cwd: world.project(), token: w.token, env: { PATH: world.project("empty-path") }, program });
    await dev.waitFor(/\bonline\b/, { stream: "stderr" });
    // Said at start, before any prompt (issue 8, item 16).
    expect(dev.stderr).toMatch(/warn .*OpenCode was not found \(not on PATH, not in node_modules\/\.bin next to this program\).*npm i -g opencode-ai/);
    const { sessionId } = await world.admin.createSession(w.workerId, "no opencode");
    for (const prompt of ["first", "second"]) {
      const { messageId } = await world.admin.send(sessionId, prompt);
      const m = await world.waitForMessage(messageId);
      expect(m.status).toBe("failed");
      expect(m.reason).toContain("OpenCode was not found");
      expect(m.reason).toContain("npm i -g opencode-ai");
    }
    expect(dev.stderr).toMatch(/warn .*OpenCode could not be started.*npm i -g opencode-ai/);
    expect(dev.child.exitCode).toBeNull();
    dev.kill("SIGTERM");
    expect((await dev.exited).code).toBe(0);
  }, T);
});
