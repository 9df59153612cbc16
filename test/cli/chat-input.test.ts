// chat reads its prompt from stdin when none is given: a runaway pipe is refused with a usage
// error once past the cap, before anything is sent, instead of being held in memory whole.
import { expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { BINARY } from "../support/cli.ts";

test("a prompt on stdin larger than 4 MB: exit 2 naming the limit, nothing sent", async () => {
  const child = spawn(BINARY, ["chat", "--worker", "api"], {
    env: { ...process.env, CONVEX_URL: "http://127.0.0.1:9", CONVEX_ADMIN_KEY: "some-admin-key" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  // chat stops reading (and exits) while we still write: the broken pipe is the expected end.
  child.stdin.on("error", () => {});
  child.stdin.end(Buffer.alloc(5 * 1024 * 1024, 0x61));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  expect(code).toBe(2);
  expect(stdout).toBe("");
  expect(stderr).toContain("error: the prompt on stdin is larger than 4 MB");
});
