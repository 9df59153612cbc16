// `service`: the unit text as generated, checked by systemd's own parser; the launchd wrapper
// under a real sh; the real CLI's --dry-run and its answer where systemd does not run.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LAUNCHD_WRAPPER, launchdPlist, systemdUnit, type ServiceSpec } from "../../src/cli/service-unit.ts";
import { BINARY, CLI_TARGETS, NODE_BUNDLE, REPO, runCli } from "../support/cli.ts";
import { run, start } from "../support/proc.ts";
import { tempDir } from "../support/tmp.ts";
import { scenario, worker, writeConfig } from "../config/fixtures/workers.ts";

const hasAnalyze = spawnSync("sh", ["-c", "command -v systemd-analyze"]).status === 0;
const systemdRuns = existsSync("/run/systemd/system");

/** The example docs/service.md shows: a user `you` with the binary in ~/.local/bin. */
const DOCS_SPEC: ServiceSpec = {
  program: ["/home/you/.local/bin/opencode-orchestrator"],
  args: ["--config", "/home/you/.config/opencode-orchestrator/workers.json"],
  shutdownTimeoutSeconds: 30,
  path: "/home/you/.local/bin:/usr/local/bin:/usr/bin:/bin",
  logFile: "/Users/you/Library/Logs/opencode-orchestrator.log",
};

function fenced(doc: string, lang: string, marker: string): string | undefined {
  const re = new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g");
  for (const m of doc.matchAll(re)) if (m[1]!.includes(marker)) return m[1];
  return undefined;
}

describe("service unit text", () => {
  test("docs/service.md shows exactly what service install generates", () => {
    const doc = readFileSync(join(REPO, "docs/service.md"), "utf8");
    expect(fenced(doc, "ini", "--log-format json --config /home/you/")).toBe(systemdUnit(DOCS_SPEC));
    expect(fenced(doc, "xml", "<string>/home/you/.local/bin/opencode-orchestrator</string>")).toBe(launchdPlist({ ...DOCS_SPEC, program: ["/home/you/.local/bin/opencode-orchestrator"] }));
  });

  test("the stop timeout follows shutdown_timeout", () => {
    expect(systemdUnit({ ...DOCS_SPEC, shutdownTimeoutSeconds: 100 })).toContain("\nTimeoutStopSec=130\n");
    expect(launchdPlist({ ...DOCS_SPEC, shutdownTimeoutSeconds: 0.5 })).toContain("<key>ExitTimeOut</key><integer>31</integer>");
  });

  test.skipIf(!hasAnalyze)("systemd's parser accepts the unit, with spaces, % and $ in paths", async () => {
    const dir = join(tempDir("unit-"), "my bin %h $HOME");
    mkdirSync(dir, { recursive: true });
    const exe = join(dir, "opencode-orchestrator");
    writeFileSync(exe, `#!/bin/sh\nexit 0\n`);
    chmodSync(exe, 0o755);
    const unit = join(tempDir("unit-"), "opencode-orchestrator.service");
    writeFileSync(unit, systemdUnit({ ...DOCS_SPEC, program: [exe], args: ["--config", join(dir, "workers.json")] }));
    const r = await run("systemd-analyze", ["verify", unit]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("launchd wrapper", () => {
  const wrap = (script: string) => ["-c", LAUNCHD_WRAPPER, "opencode-orchestrator", "sh", "-c", script];

  test("exit 78 becomes 0 (no restart), other codes pass through", async () => {
    expect((await run("sh", wrap("exit 78"))).code).toBe(0);
    expect((await run("sh", wrap("exit 1"))).code).toBe(1);
    expect((await run("sh", wrap("exit 0"))).code).toBe(0);
  });

  test("SIGTERM and SIGHUP reach the orchestrator, which decides when to exit", async () => {
    const marks = join(tempDir("wrap-"), "marks");
    const script = `trap 'echo hup >> ${marks}' HUP; trap 'echo term >> ${marks}; exit 3' TERM; echo ready; while :; do sleep 0.05; done`;
    const p = start("sh", wrap(script));
    await p.waitFor(/ready/);
    p.kill("SIGHUP");
    while (!existsSync(marks)) await Bun.sleep(20);
    p.kill("SIGTERM");
    const { code } = await p.exited;
    expect(code).toBe(3);
    expect(readFileSync(marks, "utf8")).toBe("hup\nterm\n");
  });
});

for (const target of CLI_TARGETS) {
  describe(`service (${target})`, () => {
    test("install --dry-run prints the unit for this executable and its config, and writes nothing", async () => {
      const s = scenario();
      writeConfig(s.configPath, { workers: [worker()], shutdown_timeout: 45 });
      const r = await runCli(target, ["service", "install", "--dry-run", "--config", s.configPath]);
      expect(r.code).toBe(0);
      const exec = r.stdout.match(/^ExecStart=(.*)$/m)![1]!;
      if (target === "binary") expect(exec).toStartWith(`${BINARY} orchestrate`);
      else expect(exec).toEndWith(`${NODE_BUNDLE} orchestrate --log-format json --config ${s.configPath}`);
      expect(exec).toEndWith(`orchestrate --log-format json --config ${s.configPath}`);
      for (const line of ["KillMode=mixed", "KillSignal=SIGTERM", "TimeoutStopSec=75", "RestartPreventExitStatus=78", "Restart=on-failure"]) {
        expect(r.stdout).toContain(`\n${line}\n`);
      }
      expect(r.stderr).toContain("--dry-run: nothing written");
      expect(existsSync(join(process.env.XDG_CONFIG_HOME!, "systemd"))).toBe(false);
    });

    test.skipIf(systemdRuns)("install and status without systemd: one clear message, exit 1, nothing written", async () => {
      const s = scenario();
      writeConfig(s.configPath, { workers: [worker()] });
      for (const action of ["install", "status", "uninstall"]) {
        const r = await runCli(target, ["service", action, "--config", s.configPath]);
        expect(r.stderr).toStartWith("error: systemd is not running on this machine (no /run/systemd/system)");
        expect(r.stderr).not.toContain("    at ");
        expect(r.code).toBe(1);
      }
      expect(existsSync(join(process.env.XDG_CONFIG_HOME!, "systemd"))).toBe(false);
    });

    test("an unknown action is a usage error", async () => {
      const r = await runCli(target, ["service", "start"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('unknown action "start": use install, uninstall, status');
    });
  });
}
