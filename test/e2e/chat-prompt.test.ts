// A prompt end to end through the real CLI: `chat` → backend → `dev` → a real OpenCode → the
// stub model, and the answer streamed back the same way. Both the compiled binary and the
// Node bundle run `dev` and `chat` for the basic flow; the costlier checks run on the binary.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BINARY, CLI_TARGETS, NODE_BUNDLE } from "../support/cli.ts";
import { run } from "../support/proc.ts";
import type { World } from "../support/e2e.ts";
import type { Running } from "../support/proc.ts";
import { CANNED_ANSWER, chunkText, slowAnswerChunks, stubFailureMessage } from "../support/stub-model.ts";
import { adminEnv, answers, chat, closeDevWorld, opencodePid, openDevWorld, sessionOf } from "./dev-support.ts";

// SLOW here means many small, quick deltas: what the relay must coalesce.
const MANY_CHUNKS = 60;
const TEST_TIMEOUT = 120_000;

for (const target of CLI_TARGETS) {
  describe(`chat → dev → OpenCode (${target})`, () => {
    let world: World;
    let dev: Running;
    let workerId: string;
    let workerName: string;

    beforeAll(async () => {
      const d = await openDevWorld(target, { stub: { slowChunks: MANY_CHUNKS, slowChunkDelayMs: 15 } });
      ({ world, dev } = d);
      workerId = d.worker.workerId;
      workerName = d.worker.name;
    }, 60_000);

    afterAll(() => closeDevWorld({ world, dev }), 30_000);

    test("a prompt is answered: chat prints exactly the stub's answer; the backend holds it, completed, in a few batches", async () => {
      const requestsBefore = world.stub.completions().length;
      const r = await chat(target, world, ["--worker", workerId, "--new", "Say hello"]);
      expect(r.stderr).toMatch(/session \S+/);
      expect(r.code).toBe(0);
      // Only the answer on stdout (plus the final newline chat adds), so it pipes.
      expect(r.stdout).toBe(`${CANNED_ANSWER}\n`);
      // stderr: just the session id (the worker is online, so no note about waiting).
      expect(r.stderr.trimEnd().split("\n")).toEqual([`session ${sessionOf(r.stderr)}`]);

      const [answer] = await answers(world, sessionOf(r.stderr));
      expect(answer).toMatchObject({ status: "completed", text: CANNED_ANSWER, reason: null });
      // The stub streamed the answer in this many deltas; the relay wrote far fewer batches.
      const deltas = chunkText(CANNED_ANSWER).length;
      expect(answer!.outputBatches).toBeGreaterThanOrEqual(1);
      expect(answer!.outputBatches).toBeLessThan(deltas);
      // The model saw our prompt (one completion request for it, title requests aside).
      const mine = world.stub.completions().slice(requestsBefore);
      expect(mine.map((q) => q.lastUserText)).toContain("Say hello");
      expect(await opencodePid(dev)).toBeGreaterThan(0);
      // Once OpenCode ran, the worker published the models it offers in that folder.
      const deadline = Date.now() + 30_000;
      let models: { providerId: string; modelId: string }[] = [];
      while (Date.now() < deadline) {
        models = (await world.admin.list()).find((w) => w.workerId === workerId)!.models;
        if (models.length > 0) break;
        await Bun.sleep(100);
      }
      expect(models).toContainEqual(expect.objectContaining({ providerId: "stub", modelId: "stub-model" }));
    }, TEST_TIMEOUT);

    test("the model fails (HTTP 400) → message failed with the model's error; chat exits 1 with the reason", async () => {
      const r = await chat(target, world, ["--worker", workerId, "--new", "please FAIL400 now"]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("answer failed");
      expect(r.stderr).toContain(stubFailureMessage(400));
      const [answer] = await answers(world, sessionOf(r.stderr));
      expect(answer!.status).toBe("failed");
      expect(answer!.reason).toContain(stubFailureMessage(400));
    }, TEST_TIMEOUT);

    test("chat piped into a reader that stops early (| head) exits 0 quietly; the answer still completes", async () => {
      const cli = target === "binary" ? BINARY : `node ${NODE_BUNDLE}`;
      const r = await run("bash", ["-c", `set -o pipefail; ${cli} chat --worker ${workerId} --new "SLOW piped" | head -c 12`], {
        env: adminEnv(world),
        timeoutMs: 60_000,
      });
      expect(r.stdout).toBe("slow 1. slow");
      expect(r.stderr).not.toMatch(/EPIPE|at .+:\d+/);
      expect(r.code).toBe(0);
      const [answer] = await answers(world, sessionOf(r.stderr));
      const done = await world.waitForMessage(answer!.messageId);
      expect(done).toMatchObject({ status: "completed", text: slowAnswerChunks(MANY_CHUNKS).join("") });
    }, TEST_TIMEOUT);

    if (target !== "binary") return;

    test("the prompt can come from stdin; without --new chat continues the last session; the worker can be named", async () => {
      const one = await chat(target, world, ["--worker", workerName, "--new", "ECHO:one"]);
      expect(one.code).toBe(0);
      expect(one.stdout).toBe("one\n");
      const two = await chat(target, world, ["--worker", workerName], { input: "ECHO:two from stdin\n" });
      expect(two.code).toBe(0);
      expect(two.stdout).toBe("two from stdin\n");
      expect(sessionOf(two.stderr)).toBe(sessionOf(one.stderr));
      expect((await answers(world, sessionOf(one.stderr))).map((m) => m.text)).toEqual(["one", "two from stdin"]);
    }, TEST_TIMEOUT);

    test("a long answer of many deltas costs a handful of relay batches", async () => {
      const r = await chat(target, world, ["--worker", workerId, "--new", "SLOW please"]);
      expect(r.code).toBe(0);
      const expected = slowAnswerChunks(MANY_CHUNKS).join("");
      expect(r.stdout).toBe(`${expected}\n`);
      const [answer] = await answers(world, sessionOf(r.stderr));
      expect(answer).toMatchObject({ status: "completed", text: expected });
      // 60 deltas ~15 ms apart under a 100 ms window: about one batch per 6–7 deltas.
      expect(answer!.outputBatches).toBeLessThanOrEqual(MANY_CHUNKS / 4);
    }, TEST_TIMEOUT);

    test("two sessions at once both complete; the messages of one session run strictly in order", async () => {
      const first = await chat(target, world, ["--worker", workerId, "--new", "--title", "B", "ECHO:first answer of B"]);
      expect(first.code).toBe(0);
      const sessionB = sessionOf(first.stderr);
      const before = world.stub.completions().length;

      // Session A (through chat) runs beside session B, which gets two prompts back to back.
      const chatA = chat(target, world, ["--worker", workerId, "--new", "--title", "A", "SLOW in A"]);
      await world.stub.waitForRequest((q) => q.lastUserText === "SLOW in A");
      const m1 = await world.admin.send(sessionB, "ECHO:1");
      const m2 = await world.admin.send(sessionB, "ECHO:2");
      const [a, v1, v2] = await Promise.all([chatA, world.waitForMessage(m1.messageId), world.waitForMessage(m2.messageId)]);
      expect(a.code).toBe(0);
      expect(a.stdout).toBe(`${slowAnswerChunks(MANY_CHUNKS).join("")}\n`);
      expect([v1.text, v1.status]).toEqual(["1", "completed"]);
      expect([v2.text, v2.status]).toEqual(["2", "completed"]);
      expect((await answers(world, sessionB)).map((m) => m.text)).toEqual(["first answer of B", "1", "2"]);

      // Both prompts were waiting at once (the order was really put to the test)…
      expect(v2.createdAt).toBeLessThan(v1.finishedAt!);
      // …and ECHO:2 reached the model only after the answer to ECHO:1 was finished.
      const reqs = world.stub.completions().slice(before);
      const r1 = reqs.find((q) => q.lastUserText === "ECHO:1")!;
      const r2 = reqs.find((q) => q.lastUserText === "ECHO:2")!;
      expect(reqs.indexOf(r1)).toBeLessThan(reqs.indexOf(r2));
      expect(r2.receivedAt).toBeGreaterThanOrEqual(v1.finishedAt!);
      // Session A's answer was still streaming when session B's first prompt reached the model.
      const [vA] = await answers(world, sessionOf(a.stderr));
      expect(r1.receivedAt).toBeLessThan(vA!.finishedAt!);
    }, TEST_TIMEOUT);
  });
}
