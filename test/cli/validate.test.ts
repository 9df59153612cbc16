// `validate` through the real CLI (compiled binary and Node bundle) in real temp folders.
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeWorkersTemplate } from "../../src/config/workers-file.ts";
import { MAX_JSON_DEPTH } from "../../src/config/jsonc.ts";
import { FILE_SIZE_LIMITS } from "../../src/config/read-file.ts";
import { displayWidth } from "../../src/cli/table.ts";
import { BINARY, CLI_TARGETS, NODE_BUNDLE, runCli, type CliTarget } from "../support/cli.ts";
import { run } from "../support/proc.ts";
import { tempDir } from "../support/tmp.ts";
import { scenario, SECRET, SECRET2, token, worker, writeConfig } from "../config/fixtures/workers.ts";

type Out = { code: number | null; stdout: string; stderr: string };

function validate(target: CliTarget, args: string[], opts: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {}) {
  return runCli(target, ["validate", ...args], { cwd: opts.cwd ?? tempDir("cwd-"), env: opts.env, timeoutMs: opts.timeoutMs });
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

    // Issue 8 item 3: files we are pointed at are read bounded and never with a blocking open.
    test("token_file pointing at a FIFO or /dev/zero: exit 78 at once, naming what it is", async () => {
      const s = scenario();
      const fifo = join(s.configDir, "token.fifo");
      execFileSync("mkfifo", [fifo]);
      const { token: _t, ...noToken } = worker();
      writeConfig(s.configPath, { workers: [{ ...noToken, token_file: "token.fifo" }, { ...noToken, token_file: "/dev/zero", name: "zero" }] });
      const r = await validate(target, ["--config", s.configPath], { timeoutMs: 20_000 });
      expect(r.code).toBe(78);
      expect(r.stderr).toContain(`workers[0].token_file: "${fifo}" is a named pipe (FIFO), not a token file`);
      expect(r.stderr).toContain('workers[1].token_file: "/dev/zero" is a device, not a token file');
      expect(r.stderr).toContain("Only regular files are read");
    });

    test("workers.json that is a FIFO, a device or too large: exit 78 with the cap, nothing read past it", async () => {
      const s = scenario();
      const fifo = join(s.configDir, "fifo.json");
      execFileSync("mkfifo", [fifo]);
      const a = await validate(target, ["--config", fifo], { timeoutMs: 20_000 });
      expect(a.code).toBe(78);
      expect(a.stderr).toContain(`"${fifo}" is a named pipe (FIFO), not a workers.json file`);
      const b = await validate(target, ["--config", "/dev/zero"], { timeoutMs: 20_000 });
      expect(b.code).toBe(78);
      expect(b.stderr).toContain('"/dev/zero" is a device');
      // Item 12: a huge file is refused by its size, not parsed.
      writeConfig(s.configPath, `{"workers": [], "x": "${"a".repeat(FILE_SIZE_LIMITS.workersFile)}"}`);
      const c = await validate(target, ["--config", s.configPath, "--json"], { timeoutMs: 20_000 });
      expect(c.code).toBe(78);
      expect(json(c).errors[0]!.message).toContain("is larger than 1 MiB, the most a workers.json file may hold");
    });

    // Item 5.
    test("100k nested brackets: the usual syntax error with line:column, exit 78", async () => {
      const s = scenario();
      writeConfig(s.configPath, `{"workers":\n${"[".repeat(100_000)}`);
      const r = await validate(target, ["--config", s.configPath]);
      expect(r.code).toBe(78);
      expect(r.stderr).toContain(`${s.configPath}:2:${MAX_JSON_DEPTH}: lists and objects are nested more than ${MAX_JSON_DEPTH} levels deep`);
      expect(r.stderr).not.toContain("call stack");
    });

    // Items 6 and 13: one range per field, from the schema, in the message and the fix.
    test("numbers out of range: bounds and fixes from one definition; 1e400 is too large, not 'not a number'", async () => {
      const s = scenario();
      writeConfig(s.configPath, `{"shutdown_timeout": 1e400, "workers": [{"token": "${token("m1", "w1")}", "working_directory": "../project", "convex_url": "https://a.convex.cloud", "heartbeat_interval": 0.0001, "turn_inactivity_timeout": 0.001}]}`);
      const r = await validate(target, ["--config", s.configPath, "--json"]);
      expect(r.code).toBe(78);
      const byPath = new Map(json(r).errors.map((e) => [e.path, e]));
      expect(byPath.get("shutdown_timeout")).toEqual({ path: "shutdown_timeout", message: "is too large to be a usable number: must be at most 3600", fix: "Use a number of seconds from 0 to 3600, e.g. 30." });
      expect(byPath.get("workers[0].heartbeat_interval")).toEqual({ path: "workers[0].heartbeat_interval", message: "must be at least 1", fix: "Use a number of seconds from 1 to 20, e.g. 15." });
      expect(byPath.get("workers[0].turn_inactivity_timeout")!.message).toBe("must be at least 1");
    });

    // Item 14.
    test("a symlink loop as working_directory is named as one", async () => {
      const s = scenario();
      symlinkSync(join(s.root, "loop-b"), join(s.root, "loop-a"));
      symlinkSync(join(s.root, "loop-a"), join(s.root, "loop-b"));
      writeConfig(s.configPath, { workers: [worker({}, "../loop-a")] });
      const r = await validate(target, ["--config", s.configPath]);
      expect(r.code).toBe(78);
      expect(r.stderr).toContain(`"${join(s.root, "loop-a")}" (from "../loop-a") is a loop of symbolic links that never reaches a folder`);
      expect(r.stderr).not.toContain("permissions");
    });

    // Item 15.
    test("keys written twice: a warning with both line:columns; names differing only in case: an error", async () => {
      const s = scenario();
      writeConfig(s.configPath, `{\n  "workers": [\n    {"token": "${token("m1", "w1")}", "working_directory": "../project",\n     "convex_url": "https://a.convex.cloud", "convex_url": "https://b.convex.cloud"}\n  ]\n}\n`);
      const r = await validate(target, ["--config", s.configPath]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("https://b.convex.cloud");
      expect(r.stderr).toContain('warning: workers[0].convex_url: "convex_url" is written twice in one object (line 4:6 and line 4:46); only the last one counts');

      writeConfig(s.configPath, { workers: [worker({ name: "api" }), worker({ name: "API", token: token("m1", "w2") })] });
      const c = await validate(target, ["--config", s.configPath]);
      expect(c.code).toBe(78);
      expect(c.stderr).toContain('workers[1].name: the name "API" differs from "api" of workers[0] only in case');
    });

    // Issue 10: the shared table measures display width.
    test("wide characters in a folder keep the columns aligned", async () => {
      const s = scenario();
      mkdirSync(join(s.root, "東京-box"));
      mkdirSync(join(s.root, "tokyo-box"));
      writeConfig(s.configPath, { workers: [worker({}, "../東京-box"), worker({ token: token("m1", "w2") }, "../tokyo-box")] });
      const r = await validate(target, ["--config", s.configPath]);
      expect(r.code).toBe(0);
      const [header, wide, narrow] = r.stdout.split("\n");
      const column = (line: string, text: string) => displayWidth(line.slice(0, line.indexOf(text)));
      expect(column(wide!, "https://")).toBe(column(header!, "CONVEX URL"));
      expect(column(narrow!, "https://")).toBe(column(header!, "CONVEX URL"));
    });

    // Item 7: the agent runs as this user in the folder, so validate checks this user's access.
    // Tests run as root, for whom every folder is readable: the CLI runs as nobody here.
    test.skipIf(process.getuid?.() !== 0)("a folder this user cannot read or reach fails validate, naming the cause", async () => {
      const root = mkdtempSync(join(tmpdir(), "oco-access-"));
      try {
        chmodSync(root, 0o755);
        for (const d of ["locked", "closed", "closed/inner", "cfg"]) mkdirSync(join(root, d));
        chmodSync(join(root, "locked"), 0o700);
        chmodSync(join(root, "closed"), 0o700);
        const cfg = join(root, "cfg", "workers.json");
        writeFileSync(cfg, JSON.stringify({ workers: [worker({}, "../locked"), worker({ token: token("m1", "w2") }, "../closed/inner")] }), { mode: 0o644 });
        chmodSync(cfg, 0o644);
        const [cmd, args] = target === "binary" ? [BINARY, []] : ["node", [NODE_BUNDLE]];
        const r = await run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", cmd, ...args, "validate", "--config", cfg], { cwd: root, env: { HOME: root } });
        expect(r.code).toBe(78);
        expect(r.stderr).toContain(`workers[0].working_directory: folder "${join(root, "locked")}" (from "../locked") is not readable or searchable (r and x) by this user (uid 65534)`);
        expect(r.stderr).toContain(`workers[1].working_directory: folder "${join(root, "closed/inner")}" (from "../closed/inner") cannot be reached: this user (uid 65534) may not enter "${join(root, "closed")}"`);
        expect(r.stderr).toContain(`chmod u+rx ${join(root, "locked")}`);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  });
}
