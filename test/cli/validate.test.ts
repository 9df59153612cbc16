// `validate` through the real CLI (compiled binary and Node bundle) in real temp folders.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeWorkersTemplate } from "../../src/config/workers-file.ts";
import { CLI_TARGETS, runCli, type CliTarget } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";
import { scenario, SECRET, SECRET2, token, worker, writeConfig } from "../config/fixtures/workers.ts";

type Out = { code: number | null; stdout: string; stderr: string };

function validate(target: CliTarget, args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
  return runCli(target, ["validate", ...args], { cwd: opts.cwd ?? tempDir("cwd-"), env: opts.env });
}

function noSecrets(r: Out): void {
  for (const s of [SECRET, SECRET2]) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

const json = (r: Out) => JSON.parse(r.stdout) as {
  ok: boolean;
  config: string;
  workers: Record<string, string>[];
  errors: { path: string; message: string; fix?: string }[];
  warnings: { path: string; message: string; fix?: string; file?: string }[];
};

for (const target of CLI_TARGETS) {
  describe(`validate (${target})`, () => {
    test("a valid file: table on stdout (no secret), summary on stderr, exit 0", async () => {
      const s = scenario();
      writeConfig(s.configPath, { workers: [worker({ name: "api" }), worker({ token: token("m2", "w9", SECRET2), working_directory: s.project, convex_url: "http://127.0.0.1:3210/" })] });
      const r = await validate(target, ["--config", s.configPath]);
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split("\n");
      expect(lines[0]).toMatch(/^NAME\s+MACHINE\s+WORKER\s+FOLDER\s+CONVEX URL$/);
      expect(lines[1]).toMatch(new RegExp(`^api\\s+m1\\s+w1\\s+${s.project}\\s+https://happy-animal-123\\.convex\\.cloud$`));
      expect(lines[2]).toMatch(new RegExp(`^w9\\s+m2\\s+w9\\s+${s.project}\\s+http://127\\.0\\.0\\.1:3210$`));
      expect(r.stderr).toContain(`${s.configPath} is valid: 2 workers`);
      noSecrets(r);
    });

    test("--json on a valid file: one object, exactly the documented worker fields", async () => {
      const s = scenario();
      writeConfig(s.configPath, { workers: [worker()] });
      const r = await validate(target, ["--config", s.configPath, "--json"]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split("\n")).toHaveLength(1);
      expect(json(r)).toEqual({
        ok: true,
        config: s.configPath,
        workers: [{ name: "w1", machineId: "m1", workerId: "w1", workingDirectory: s.project, convexUrl: "https://happy-animal-123.convex.cloud", sandbox: expect.objectContaining({ mode: "auto" }) }],
        errors: [],
        warnings: [],
      });
      noSecrets(r);
    });

    test("missing file: says where it is expected and how to create one, writes nothing, exit 78", async () => {
      const home = tempDir("home-");
      const xdg = join(home, "xdg");
      const r = await validate(target, [], { env: { HOME: home, XDG_CONFIG_HOME: xdg } });
      expect(r.code).toBe(78);
      expect(r.stderr).toContain(`no workers.json at ${join(xdg, "opencode-orchestrator", "workers.json")}`);
      expect(r.stderr).toContain("opencode-orchestrator orchestrate");
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(existsSync(xdg)).toBe(false);

      const j = await validate(target, ["--json"], { env: { HOME: home, XDG_CONFIG_HOME: xdg } });
      expect(j.code).toBe(78);
      const body = json(j);
      expect(body.ok).toBe(false);
      expect(body.config).toBe(join(xdg, "opencode-orchestrator", "workers.json"));
      expect(body.errors[0]!.message).toContain("no workers.json");
      expect(existsSync(xdg)).toBe(false);
    });

    test("a freshly written template does not validate, and says the token is a placeholder", async () => {
      const dir = tempDir("tpl-");
      const path = join(dir, "workers.json");
      writeWorkersTemplate(path);
      const r = await validate(target, ["--config", path]);
      expect(r.code).toBe(78);
      expect(r.stderr).toContain("workers[0].token: still holds the template's placeholder");
      expect(r.stderr).toContain("workers[0].working_directory");
    });

    test("JSONC comments and trailing commas", async () => {
      const s = scenario();
      writeConfig(s.configPath, `// hosts\n{\n  "workers": [\n    /* one */ {"token": "${token("m1", "w1")}", "working_directory": "../project", "convex_url": "https://a.convex.cloud",},\n  ],\n}\n`);
      const r = await validate(target, ["--config", s.configPath]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("w1");
    });

    test("syntax error: file:line:column and what is wrong, exit 78", async () => {
      const s = scenario();
      writeConfig(s.configPath, `{\n  "workers": [\n    {"token": "x" "working_directory": "y"}\n  ]\n}\n`);
      const r = await validate(target, ["--config", s.configPath]);
      expect(r.code).toBe(78);
      expect(r.stderr).toContain(`${s.configPath}:3:19: expected a comma`);
      const j = await validate(target, ["--config", s.configPath, "--json"]);
      expect(j.code).toBe(78);
      expect(json(j).errors).toEqual([{ path: "3:19", message: "expected a comma", fix: expect.any(String) }]);
    });

    test("schema errors: all at once, each with its path and fix", async () => {
      const s = scenario();
      writeConfig(s.configPath, {
        workers: [
          { token: token("m1", "w1"), working_dir: "../project", convex_url: "https://a.convex.cloud" },
          worker({ token: token("m1", "w2"), max_concurrent_sessions: 0 }),
          worker({ token: token("m1", "w3"), convex_url: "http://example.com" }),
        ],
      });
      const r = await validate(target, ["--config", s.configPath]);
      expect(r.code).toBe(78);
      expect(r.stderr).toContain(`error: ${s.configPath} has 4 problems`);
      expect(r.stderr).toContain("workers[0].working_directory: is required");
      expect(r.stderr).toContain('workers[0].working_dir: unknown key "working_dir" — did you mean "working_directory"?');
      expect(r.stderr).toContain("workers[1].max_concurrent_sessions: must be at least 1");
      expect(r.stderr).toContain("workers[2].convex_url: must use https://");
      expect(r.stderr.match(/fix:/g)?.length).toBe(4);
      expect(r.stdout).toBe("");

      const j = await validate(target, ["--config", s.configPath, "--json"]);
      expect(j.code).toBe(78);
      const body = json(j);
      expect(body.ok).toBe(false);
      expect(body.workers).toEqual([]);
      expect(body.errors.map((e) => e.path)).toEqual(["workers[0].working_directory", "workers[0].working_dir", "workers[1].max_concurrent_sessions", "workers[2].convex_url"]);
    });

    test("the same worker twice and duplicate names are errors naming both entries", async () => {
      const s = scenario();
      writeConfig(s.configPath, {
        workers: [worker({ name: "api" }), worker({ token: token("m1", "w1", SECRET2) }), worker({ token: token("m1", "w3"), name: "api" })],
      });
      const r = await validate(target, ["--config", s.configPath]);
      expect(r.code).toBe(78);
      expect(r.stderr).toContain("workers[1].token: workers[0] and workers[1] are the same worker (machine m1, worker w1)");
      expect(r.stderr).toContain('workers[2].name: the name "api" is already used by workers[0]');
      noSecrets(r);
    });

    test("missing folder names the resolved path; a file is not a folder", async () => {
      const s = scenario();
      writeFileSync(join(s.root, "plain-file"), "x");
      writeConfig(s.configPath, { workers: [worker({ working_directory: "../nowhere" }), worker({ token: token("m1", "w2"), working_directory: "../plain-file" })] });
      const r = await validate(target, ["--config", s.configPath]);
      expect(r.code).toBe(78);
      expect(r.stderr).toContain(`workers[0].working_directory: folder "${join(s.root, "nowhere")}" (from "../nowhere") does not exist`);
      expect(r.stderr).toContain(`workers[1].working_directory: "${join(s.root, "plain-file")}" (from "../plain-file") is not a folder`);
    });

    test("a bad token shows the format help and never the value", async () => {
      const s = scenario();
      writeConfig(s.configPath, { workers: [worker({ token: `machine_m1:worker_w1:${SECRET}` }), worker({ token: `machine_m1:worker_w2:secret_${SECRET2}!` })] });
      for (const args of [["--config", s.configPath], ["--config", s.configPath, "--json"]]) {
        const r = await validate(target, args);
        expect(r.code).toBe(78);
        expect(r.stdout + r.stderr).toContain("machine_<machineId>:worker_<workerId>:secret_<secret>");
        expect(r.stdout + r.stderr).toContain("the third part must be");
        noSecrets(r);
      }
    });

    test("http is rejected for a non-loopback host and accepted for loopback ones", async () => {
      const s = scenario();
      writeConfig(s.configPath, { workers: [worker({ convex_url: "http://192.168.1.10:3210" })] });
      const bad = await validate(target, ["--config", s.configPath]);
      expect(bad.code).toBe(78);
      expect(bad.stderr).toContain('workers[0].convex_url: must use https:// for "192.168.1.10"');

      const loop = ["http://127.0.0.1:3210", "http://localhost:3210", "http://[::1]:3210/"];
      writeConfig(s.configPath, { workers: loop.map((u, i) => worker({ token: token("m1", `w${i}`), convex_url: u })) });
      const ok = await validate(target, ["--config", s.configPath, "--json"]);
      expect(ok.code).toBe(0);
      expect(json(ok).workers.map((w) => w.convexUrl)).toEqual(["http://127.0.0.1:3210", "http://localhost:3210", "http://[::1]:3210"]);
    });

    test("~ is the home folder", async () => {
      const s = scenario();
      const home = tempDir("home-");
      mkdirSync(join(home, "code", "app"), { recursive: true });
      writeConfig(s.configPath, { workers: [worker({ working_directory: "~/code/app" })] });
      const r = await validate(target, ["--config", s.configPath, "--json"], { env: { HOME: home } });
      expect(r.code).toBe(0);
      expect(json(r).workers[0]!.workingDirectory).toBe(join(home, "code", "app"));
    });

    test("relative paths resolve against the config file's folder, whatever the cwd", async () => {
      const s = scenario();
      writeConfig(s.configPath, { workers: [worker({ working_directory: "../project" })] });
      const elsewhere = tempDir("elsewhere-");
      mkdirSync(join(elsewhere, "project")); // a decoy next to the cwd
      const r = await validate(target, ["--config", s.configPath, "--json"], { cwd: elsewhere });
      expect(r.code).toBe(0);
      expect(json(r).workers[0]!.workingDirectory).toBe(s.project);
      // --config itself is relative to the cwd.
      const rel = await validate(target, ["--config", "cfg/workers.json", "--json"], { cwd: s.root });
      expect(rel.code).toBe(0);
      expect(json(rel).config).toBe(s.configPath);
    });

    test("precedence: --config > OPENCODE_ORCHESTRATOR_CONFIG > $XDG_CONFIG_HOME default", async () => {
      const s = scenario();
      const xdg = tempDir("xdg-");
      const byDefault = writeConfig(join(xdg, "opencode-orchestrator", "workers.json"), { workers: [worker({ name: "from-default" }, s.project)] });
      const byEnv = writeConfig(join(s.root, "env.json"), { workers: [worker({ name: "from-env" }, s.project)] });
      const byFlag = writeConfig(join(s.root, "flag.json"), { workers: [worker({ name: "from-flag" }, s.project)] });
      const env = { XDG_CONFIG_HOME: xdg, OPENCODE_ORCHESTRATOR_CONFIG: byEnv };

      const flag = await validate(target, ["--config", byFlag, "--json"], { env });
      expect(json(flag)).toMatchObject({ config: byFlag, workers: [{ name: "from-flag" }] });
      const fromEnv = await validate(target, ["--json"], { env });
      expect(json(fromEnv)).toMatchObject({ config: byEnv, workers: [{ name: "from-env" }] });
      const fromDefault = await validate(target, ["--json"], { env: { XDG_CONFIG_HOME: xdg, OPENCODE_ORCHESTRATOR_CONFIG: undefined } });
      expect(json(fromDefault)).toMatchObject({ config: byDefault, workers: [{ name: "from-default" }] });
    });

    test("warnings: group-readable config and token file, same folder twice; still exit 0", async () => {
      const s = scenario();
      const tokenPath = join(s.configDir, "w2.token");
      writeFileSync(tokenPath, token("m1", "w2", SECRET2));
      chmodSync(tokenPath, 0o604);
      const { token: _t, ...noToken } = worker();
      writeConfig(s.configPath, { workers: [worker(), { ...noToken, token_file: "w2.token" }] }, 0o640);
      const r = await validate(target, ["--config", s.configPath]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`warning: the config file is readable by group`);
      expect(r.stderr).toContain(`fix: chmod 600 ${s.configPath}`);
      expect(r.stderr).toContain(`${tokenPath}: workers[1].token_file: the token file is readable by others`);
      expect(r.stderr).toContain(`fix: chmod 600 ${tokenPath}`);
      expect(r.stderr).toContain("workers[1].working_directory: workers[0] and workers[1] both run in");
      expect(r.stdout).not.toContain("warning");
      noSecrets(r);

      const j = await validate(target, ["--config", s.configPath, "--json"]);
      expect(j.code).toBe(0);
      const body = json(j);
      expect(body.warnings).toHaveLength(3);
      expect(body.warnings[0]).toMatchObject({ path: "", fix: `chmod 600 ${s.configPath}` });
      expect(body.warnings[1]).toMatchObject({ path: "workers[1].token_file", file: tokenPath });
      noSecrets(j);
    });

    test("NO_COLOR is respected; colors only when forced", async () => {
      const s = scenario();
      writeConfig(s.configPath, { workers: [] });
      const plain = await validate(target, ["--config", s.configPath], { env: { NO_COLOR: "1", FORCE_COLOR: "1" } });
      expect(plain.code).toBe(78);
      expect(plain.stderr).not.toContain("\x1b[");
      const colored = await validate(target, ["--config", s.configPath], { env: { NO_COLOR: undefined, FORCE_COLOR: "1" } });
      expect(colored.code).toBe(78);
      expect(colored.stderr).toContain("\x1b[");
    });

    test("validate never writes into the config folder", async () => {
      const s = scenario();
      writeConfig(s.configPath, { workers: [worker()] });
      await validate(target, ["--config", s.configPath]);
      expect(readdirSync(s.configDir)).toEqual(["workers.json"]);
    });
  });
}
