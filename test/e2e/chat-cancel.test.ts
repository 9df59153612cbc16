// Ctrl+C in `chat` cancels the answer for real: the backend records the request, the worker
// aborts the OpenCode turn (the stub sees its stream closed early), the message ends
// `cancelled`, and chat exits 1 saying so. `chat` runs as binary and as Node bundle against
// one `dev` (the binary).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CLI_TARGETS } from "../support/cli.ts";
import type { World } from "../support/e2e.ts";
import type { Running } from "../support/proc.ts";
import { CANNED_ANSWER } from "../support/stub-model.ts";
import { answers, chat, closeDevWorld, openDevWorld, sessionOf, startChat } from "./dev-support.ts";

const T = 90_000;
let world: World;
let dev: Running;
let workerId: string;
let lastSession: string | undefined;

beforeAll(async () => {
  // SLOW: 60 chunks, 500 ms apart — 30 s, far longer than any cancel takes.
  const d = await openDevWorld("binary");
  ({ world, dev } = d);
  workerId = d.worker.workerId;
}, 60_000);

afterAll(() => closeDevWorld({ world, dev }), 30_000);

describe("chat Ctrl+C", () => {
  for (const target of CLI_TARGETS) {
    test(`cancels a slow answer: OpenCode aborted, message cancelled, chat exit 1 with the reason (${target} chat)`, async () => {
      const prompt = `SLOW answer to cancel from ${target}`;
      const c = startChat(target, world, ["--worker", workerId, "--new", prompt]);
      // Some of the answer streamed to stdout: the turn is running in OpenCode.
      await c.waitFor(/slow 1\. /, { stream: "stdout", timeoutMs: 60_000 });
      const request = await world.stub.waitForRequest((q) => q.lastUserText === prompt);
      expect(request.closedEarly).toBe(false);

      c.kill("SIGINT");
      const exit = await c.exited;
      expect(exit.code).toBe(1);
      expect(c.stderr).toContain("cancelling the answer");
      expect(c.stderr).toContain("answer cancelled: cancelled on request while running");

      // OpenCode dropped the model's stream at once instead of letting it run for 30 s.
      const deadline = Date.now() + 15_000;
      while (!request.closedEarly && Date.now() < deadline) await Bun.sleep(50);
      expect(request.closedEarly).toBe(true);
      expect(request.finished).toBe(false);

      const [answer] = await answers(world, sessionOf(c.stderr));
      expect(answer!.status).toBe("cancelled");
      expect(answer!.reason).toBe("cancelled on request while running");
      lastSession = sessionOf(c.stderr);
      // What streamed before the cancel is kept, and it is a prefix of the answer.
      expect(answer!.text.startsWith("slow 1. ")).toBe(true);
      expect(c.stdout.trimEnd()).toBe(answer!.text.trimEnd());
    }, T);
  }

  test("the same session takes the next prompt right after a cancel", async () => {
    // OpenCode signals an aborted run's end twice; the stray signal must not end this turn early.
    const r = await chat("binary", world, ["--worker", workerId, "--session", lastSession!, "Say hello"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${CANNED_ANSWER}\n`);
  }, T);

  test("a prompt for a worker that is not running says so, waits, and Ctrl+C cancels it before it starts", async () => {
    const pending = await world.addWorker({ name: "not-approved-yet" });
    const c = startChat("binary", world, ["--worker", pending.name, "--new", "Say hello"]);
    // The hint names the worker as the README does, with the id beside it (issue 8, item 17).
    await c.waitFor(new RegExp(`worker "not-approved-yet" is not approved yet: .*admin approve not-approved-yet; its id is ${pending.workerId}`), { stream: "stderr" });
    await Bun.sleep(300);
    expect(c.child.exitCode).toBeNull();
    c.kill("SIGINT");
    expect((await c.exited).code).toBe(1);
    expect(c.stdout).toBe("");
    expect(c.stderr).toContain("answer cancelled: cancelled before it started");
    const [answer] = await answers(world, sessionOf(c.stderr));
    expect(answer).toMatchObject({ status: "cancelled", text: "" });
  }, T);
});
