// `reply` through the real CLI (binary and Node bundle): a malformed answer is refused before
// anything is sent (exit 2, naming the fix); against the embedded backend, an unknown request is
// a clear exit 1 and an empty pending list says so.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CLI_TARGETS, runCli, type CliTarget } from "../support/cli.ts";
import { startWorld, type World } from "../support/e2e.ts";

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.stop();
});

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
  });
}
