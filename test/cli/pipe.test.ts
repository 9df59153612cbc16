// A reader that closes our stdout early (`opencode-orchestrator … | head -1`) must end the
// output quietly: exit 0, no EPIPE stack trace on stderr.
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { BINARY, CLI_TARGETS, NODE, NODE_BUNDLE } from "../support/cli.ts";

describe.each(CLI_TARGETS)("closed stdout (%s)", (target) => {
  test("--help into a pipe whose reader is gone exits 0 without a stack trace", async () => {
    const [cmd, args] = target === "binary" ? [BINARY, ["--help"]] : [NODE, [NODE_BUNDLE, "--help"]];
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    // Close our end before the program writes: its writes then fail with EPIPE.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|at write|Error/);
    expect(code).toBe(0);
  });
});
