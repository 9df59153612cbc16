// With --log-format json, a fatal error is one more JSON line on stderr (for log collectors),
// carrying the message, the detail and the exit code.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { CLI_TARGETS, runCli } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

describe.each(CLI_TARGETS)("fatal errors as JSON (%s)", (target) => {
  test("a missing workers.json under --log-format json: template written, one JSON error line, exit 78", async () => {
    const config = join(tempDir("json-err-"), "workers.json");
    const r = await runCli(target, ["orchestrate", "--config", config, "--log-format", "json"]);
    expect(r.code).toBe(78);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { level: string; msg: string; detail?: string; exitCode: number };
    expect(line).toMatchObject({ level: "error", exitCode: 78 });
    expect(line.msg).toContain(`a template was written to ${config}`);
    expect(line.detail).toContain("opencode-orchestrator validate");
  });

  test("without --log-format json the same error is text", async () => {
    const config = join(tempDir("json-err-"), "workers.json");
    const r = await runCli(target, ["orchestrate", "--config", config]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^error: no workers.json was found/);
  });
});
