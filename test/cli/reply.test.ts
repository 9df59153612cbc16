// `reply` through the real CLI (binary and Node bundle): a malformed answer is refused before
// anything is sent (exit 2, naming the fix); against the embedded backend, an unknown request is
// a clear exit 1 and an empty pending list says so. Questions are raised by the test through the
// real worker client (as test/cli/chat-interactive-requests.test.ts does), so each is exact.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connectWorkerBackend } from "../../src/backend/worker-client.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { CLI_TARGETS, runCli, type CliTarget } from "../support/cli.ts";
import { startWorld, type World } from "../support/e2e.ts";

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.stop();
});

/** A question request on a claimed answer of a worker the test plays. */
async function raiseQuestion(name: string, questions: { question: string; header: string; options: { label: string; description: string }[]; multiple?: boolean }[]) {
  const w = await world.addWorker({ name, approve: true });
  const backend = connectWorkerBackend(world.backend.url, WorkerToken.parse(w.token)!);
  try {
    const instanceId = `instance-${name}`;
    await backend.register(instanceId, { hostname: "box", directory: "/srv/project", version: "0.0.0-test" });
    const { sessionId } = await world.admin.createSession(w.name);
    const { messageId } = await world.admin.send(sessionId, "ask me things");
    expect(await backend.claim(instanceId, messageId)).toMatchObject({ claimed: true });
    const r = await backend.raiseRequest(instanceId, messageId, { kind: "question", title: questions[0]!.question, questions }, `que_${name}`);
    return { requestId: r.requestId, messageId };
  } finally {
    await backend.close();
  }
}

const color = { question: "Which color?", header: "Color", options: [{ label: "red", description: "warm" }, { label: "blue", description: "" }] };
const sizes = { question: "Which sizes?", header: "", options: [{ label: "S", description: "" }, { label: "M", description: "" }, { label: "L", description: "" }], multiple: true };

const reply = (target: CliTarget, args: string[]) =>
  runCli(target, ["reply", ...args], { env: { CONVEX_URL: world.backend.url, CONVEX_ADMIN_KEY: world.backend.adminKey, NO_COLOR: "1" }, timeoutMs: 30_000 });

for (const target of CLI_TARGETS) {
  describe(`reply (${target})`, () => {
    test("a malformed answer: exit 2 with what to do, nothing sent", async () => {
      const cases: [string[], string][] = [
        [["req_x", "sure"], "the answer must be one of once, always, reject"],
        [["req_x", "once", "--message", "why"], "--message goes only with reject"],
        [["req_x"], "say how to answer: once, always or reject"],
        [["req_x", "reject", "--answer", "blue"], '--answer answers a question; leave out "reject"'],
        [["--answer", "blue"], "which request?"],
      ];
      for (const [args, text] of cases) {
        const r = await reply(target, args);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(text);
        expect(r.stdout).toBe("");
      }
    });

    test("an unknown request: exit 1 naming it; no pending requests: said on stderr", async () => {
      const r = await reply(target, ["req_nosuchthing", "once"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("No request req_nosuchthing");
      expect(r.stderr).not.toMatch(/^\s+at .+:\d+/m);
      const list = await reply(target, []);
      expect(list.code).toBe(0);
      expect(list.stdout).toBe("");
      expect(list.stderr).toContain("No requests wait for an answer.");
      expect(JSON.parse((await reply(target, ["--json"])).stdout)).toEqual({ requests: [] });
    });

    test("a question: --answer once per question; option numbers pick options (several where allowed), other text is one answer, commas and all", async () => {
      const { requestId, messageId } = await raiseQuestion(`reply-question-${target.replace(/\W/g, "-")}`, [color, sizes]);
      const cases: [string[], string][] = [
        [["--answer", "2"], `request ${requestId} asks 2 questions: give --answer 2 times, in order (got 1)`],
        [["--answer", "1,2", "--answer", "1"], '--answer 1 ("1,2"): this question takes one option (1-2)'],
      ];
      for (const [args, text] of cases) {
        const r = await reply(target, [requestId, ...args]);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(text);
      }
      expect((await world.admin.listRequests(messageId))[0]).toMatchObject({ status: "pending" });
      // The pending list numbers each question's options as --answer takes them.
      const list = await reply(target, []);
      expect(list.stdout).toContain(`\n${requestId}\n  (1) Color: Which color?\n    1. red — warm\n    2. blue\n  (2) Which sizes?\n    1. S\n    2. M\n    3. L\n`);

      const ok = await reply(target, [requestId, "--answer", "red, or a warm brown", "--answer", "1,3", "--json"]);
      expect(ok.code).toBe(0);
      expect(ok.stderr).toContain(`Answered request ${requestId}: "red, or a warm brown" / "S", "L".`);
      expect(JSON.parse(ok.stdout)).toEqual({ requestId, status: "answered", answers: [["red, or a warm brown"], ["S", "L"]] });
      expect((await world.admin.listRequests(messageId))[0]).toMatchObject({ status: "answered", reply: "once", answers: [["red, or a warm brown"], ["S", "L"]] });

      // Answered: a second answer goes as typed and is refused, saying how it was answered.
      const again = await reply(target, [requestId, "--answer", "2", "--answer", "2"]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`Request ${requestId} was already answered`);
    });

    test("a single question: a number that is no option is an answer in its own words", async () => {
      const { requestId, messageId } = await raiseQuestion(`reply-number-${target.replace(/\W/g, "-")}`, [sizes]);
      const r = await reply(target, [requestId, "--answer", "16"]);
      expect(r.code).toBe(0);
      expect((await world.admin.listRequests(messageId))[0]).toMatchObject({ status: "answered", answers: [["16"]] });
    });
  });
}
