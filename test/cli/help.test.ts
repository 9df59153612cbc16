// The entry point's contract: help, version, and exit 2 with a short usage on bad input —
// through the compiled binary and the Node bundle alike.
import { describe, expect, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { CLI_TARGETS, runCli } from "../support/cli.ts";

for (const target of CLI_TARGETS) {
  describe(`help and usage (${target})`, () => {
    test("--help prints the commands and exit codes on stdout, exit 0", async () => {
      const r = await runCli(target, ["--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Usage: opencode-orchestrator <command> [flags]");
      expect(r.stdout).toMatch(/^\s+validate\s+Check workers\.json/m);
      expect(r.stdout).toContain("78  configuration error");
      expect(r.stderr).toBe("");
    });

    test("no arguments: help on stderr, exit 2", async () => {
      const r = await runCli(target, []);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("Usage: opencode-orchestrator <command> [flags]");
    });

    test("<command> --help and help <command>", async () => {
      for (const args of [["validate", "--help"], ["validate", "-h"], ["help", "validate"]]) {
        const r = await runCli(target, args);
        expect(r.code).toBe(0);
        expect(r.stdout).toContain("Usage: opencode-orchestrator validate [--config PATH] [--json]");
        expect(r.stdout).toContain("--config PATH");
        expect(r.stdout).toContain("--json");
      }
    });

    test("--version prints the package version and the commit it was built from", async () => {
      for (const flag of ["--version", "-v"]) {
        const r = await runCli(target, [flag]);
        expect(r.code).toBe(0);
        expect(r.stdout.trim()).toMatch(new RegExp(`^${pkg.version.replace(/\./g, "\\.")} \\(commit [0-9a-f]{12}(-dirty)?\\)$`));
      }
    });

    test("unknown command: short usage on stderr, exit 2", async () => {
      const r = await runCli(target, ["frobnicate"]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain('unknown command "frobnicate"');
      expect(r.stderr).toContain("opencode-orchestrator --help");
      expect(r.stderr.split("\n").length).toBeLessThan(6);
    });

    test("unknown flag: exit 2, before and after the command", async () => {
      const top = await runCli(target, ["--frob"]);
      expect(top.code).toBe(2);
      expect(top.stderr).toContain('unknown flag "--frob"');

      const sub = await runCli(target, ["validate", "--frob"]);
      expect(sub.code).toBe(2);
      expect(sub.stdout).toBe("");
      expect(sub.stderr).toContain("--frob");
      expect(sub.stderr).toContain("Usage: opencode-orchestrator validate");
    });

    test("unexpected argument and a flag missing its value: exit 2", async () => {
      const extra = await runCli(target, ["validate", "extra"]);
      expect(extra.code).toBe(2);
      expect(extra.stderr).toContain('unexpected argument "extra"');
      const noValue = await runCli(target, ["validate", "--config"]);
      expect(noValue.code).toBe(2);
      expect(noValue.stderr).toContain("--config");
    });
  });
}
