// Stopping `dev` with signals while an answer streams: the first SIGTERM drains (the answer
// finishes, then exit 0), a second one interrupts it (message `interrupted`, exit 0), a repeat
// within 500 ms counts once; and no OpenCode process is left behind in any case.
import { describe, expect, test } from "bun:test";
import { CLI_TARGETS } from "../support/cli.ts";
import { slowAnswerChunks } from "../support/stub-model.ts";
import { alive, opencodePid, startOnlineDev, waitForText, waitGone, useWorld } from "./dev-support.ts";

const T = 90_000;
// A SLOW answer here: 12 chunks 400 ms apart (~5 s), well inside dev's 10 s drain deadline.
const CHUNKS = 12;
const ANSWER = slowAnswerChunks(CHUNKS).join("");

const world = useWorld({ stub: { slowChunks: CHUNKS, slowChunkDelayMs: 400 } });

async function startTurn(target: "binary" | "node") {
  const { worker, dev } = await startOnlineDev(target, world);
  const { sessionId } = await world.admin.createSession(worker.workerId, "signals");
  const prompt = `SLOW for signals ${Math.random()}`;
  const { messageId } = await world.admin.send(sessionId, prompt);
  const pid = await opencodePid(dev);
  // Part of the answer is in the backend: the turn is running.
  await waitForText(world, messageId);
  const request = await world.stub.waitForRequest((q) => q.lastUserText === prompt);
  return { worker, dev, messageId, pid, request };
}

async function workerStatus(workerId: string) {
  return (await world.admin.list()).find((w) => w.workerId === workerId)!.status;
}

describe("dev and signals", () => {
  for (const target of CLI_TARGETS) {
    // Ctrl+C in a terminal is SIGINT; service managers send SIGTERM. Both drain.
    const signal = target === "binary" ? "SIGTERM" : "SIGINT";
    test(`${signal} during a turn: the answer finishes, then exit 0, OpenCode gone (${target})`, async () => {
      const { worker, dev, messageId, pid, request } = await startTurn(target);
      expect(alive(pid)).toBe(true);
      dev.kill(signal);
      await dev.waitFor(new RegExp(`${signal}: draining`), { stream: "stderr" });

      const exit = await dev.exited;
      expect(exit.code).toBe(0);
      const m = await world.admin.message(messageId);
      expect(m).toMatchObject({ status: "completed", text: ANSWER });
      expect(request.finished).toBe(true);
      expect(dev.stderr).not.toMatch(/interrupting/);
      expect(await waitGone(pid)).toBe(true);
      expect(await workerStatus(worker.workerId)).toBe("offline");
    }, T);
  }

  test("two SIGTERMs (≥ 600 ms apart): the answer is interrupted, exit 0, OpenCode gone", async () => {
    const { worker, dev, messageId, pid, request } = await startTurn("binary");
    dev.kill("SIGTERM");
    await dev.waitFor(/SIGTERM: draining/, { stream: "stderr" });
    await Bun.sleep(700);
    dev.kill("SIGTERM");
    await dev.waitFor(/SIGTERM again: interrupting/, { stream: "stderr" });

    const exit = await dev.exited;
    expect(exit.code).toBe(0);
    const m = (await world.admin.message(messageId))!;
    expect(m.status).toBe("interrupted");
    expect(m.reason).toContain("stopped before the answer finished");
    // Only part of the answer, never more than it.
    expect(m.text.length).toBeLessThan(ANSWER.length);
    expect(ANSWER.startsWith(m.text)).toBe(true);
    // OpenCode's turn was aborted, not left to run on.
    const deadline = Date.now() + 10_000;
    while (!request.closedEarly && Date.now() < deadline) await Bun.sleep(50);
    expect(request.closedEarly).toBe(true);
    expect(await waitGone(pid)).toBe(true);
    expect(await workerStatus(worker.workerId)).toBe("offline");
  }, T);

  test("two SIGTERMs 100 ms apart count once: the answer still finishes", async () => {
    const { dev, messageId, pid } = await startTurn("binary");
    dev.kill("SIGTERM");
    await Bun.sleep(100);
    dev.kill("SIGTERM");

    const exit = await dev.exited;
    expect(exit.code).toBe(0);
    expect(dev.stderr.match(/SIGTERM: draining/g)?.length).toBe(1);
    expect(dev.stderr).not.toMatch(/SIGTERM again/);
    const m = await world.admin.message(messageId);
    expect(m).toMatchObject({ status: "completed", text: ANSWER });
    expect(await waitGone(pid)).toBe(true);
  }, T);

  test("a third signal exits at once, even while the shutdown is stuck (backend gone); OpenCode is killed", async () => {
    const { dev, pid } = await startTurn("binary");
    // With the backend away, interrupting the answer cannot be recorded: the shutdown waits on it.
    await world.backend.stopNetwork();
    try {
      dev.kill("SIGTERM");
      await dev.waitFor(/SIGTERM: draining/, { stream: "stderr" });
      await Bun.sleep(700);
      dev.kill("SIGTERM");
      await dev.waitFor(/SIGTERM again: interrupting/, { stream: "stderr" });
      await Bun.sleep(700);
      expect(dev.child.exitCode).toBeNull();
      dev.kill("SIGTERM");
      const exit = await dev.exited;
      expect(exit.code).toBe(1);
      expect(dev.stderr).toMatch(/SIGTERM received a third time: exiting now/);
      expect(await waitGone(pid)).toBe(true);
    } finally {
      await world.backend.startNetwork();
    }
  }, T);
});
