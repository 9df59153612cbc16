// What `validate` and `status` report about a worker's sandbox, from a real workers.json.
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeSandbox, detectSandbox, sandboxStatus, sandboxSummary } from "../../src/agent/sandbox/index.ts";
import { readConfigEnv } from "../../src/config/env.ts";
import { loadWorkersConfig } from "../../src/config/workers-file.ts";
import { tempDir } from "../support/tmp.ts";

async function fixture(extra: Record<string, unknown> = {}) {
  const root = tempDir("summary-");
  const env = { HOME: join(root, "home"), PATH: process.env.PATH };
  for (const d of ["p1", "p2", "home/.ssh"]) mkdirSync(join(root, d), { recursive: true });
  const file = join(root, "workers.json");
  const worker = (n: number, more = {}) => ({ name: `w${n}`, token: `machine_m1:worker_w${n}:secret_abcdefghij${n}`, working_directory: `p${n}`, convex_url: "http://127.0.0.1:3210", ...more });
  writeFileSync(file, JSON.stringify({ workers: [worker(1, { sandbox_hide: ["~/.ssh", "~/.aws"], sandbox_writable: ["p2"], ...extra }), worker(2, { sandbox: "off" })] }), { mode: 0o600 });
  const config = await loadWorkersConfig(file, { createTemplate: false, env: readConfigEnv(env) });
  return { root, env, file, config };
}

describe("sandbox summary", () => {
  test.skipIf(!detectSandbox().ok)("on: hides our folders, the config, other workers and sandbox_hide; lists what it may write", async () => {
    const { root, env, file, config } = await fixture();
    const [w1] = config.workers;
    expect(w1!.sandbox).toEqual({ mode: "auto", network: true, hide: [join(root, "home/.ssh"), join(root, "home/.aws")], writable: [join(root, "p2")] });
    const s = sandboxSummary(w1!, config, env);
    expect(s.state).toBe("on");
    expect(s.hidden).toEqual(expect.arrayContaining([join(root, "home/.config/opencode-orchestrator"), join(root, "home/.local/share/opencode-orchestrator"), file, join(root, "home/.ssh")]));
    // p2 is another worker's folder, but sandbox_writable names it: the owner's explicit choice wins.
    expect(s.writable).toEqual(expect.arrayContaining([join(root, "p1"), join(root, "p2"), join(root, "home/.local/share/opencode"), "/tmp (private)"]));
    expect(s.absent).toEqual([join(root, "home/.aws")]);
    const text = describeSandbox("w1", s).join("\n");
    expect(text).toContain("w1: sandbox auto → on (bwrap)");
    expect(text).toContain(`hidden:   ${file}`);
    expect(sandboxStatus("w1", config)).toEqual({ mode: "auto", state: "on", kind: "bwrap" });
    expect(sandboxStatus("w2", config)).toEqual({ mode: "off", state: "off" });
  });

  test.skipIf(!detectSandbox().ok)("hides the folders of the workers `up` made on this machine (another up's workers), never the worker's own", async () => {
    const { root, env, config } = await fixture();
    const upFolder = join(root, "p3");
    mkdirSync(upFolder);
    const record = (folder: string, n: number) => ({ backend: join(root, "data"), folder, name: `p${n}`, workerId: `u${n}`, token: `machine_m1:worker_u${n}:secret_abcdefghij${n}` });
    const dir = join(root, "home/.config/opencode-orchestrator");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "local-workers.json"), JSON.stringify({ version: 1, workers: [record(upFolder, 3), record(join(root, "p1"), 1)] }), { mode: 0o600 });
    const s = sandboxSummary(config.workers[0]!, config, env);
    expect(s.hidden).toContain(upFolder);
    expect(s.hidden).not.toContain(join(root, "p1"));
    expect(s.writable).toContain(join(root, "p1"));
    // The same folder through a symlink in workers.json is still the worker's own.
    symlinkSync(join(root, "p1"), join(root, "p1-link"));
    const linked = { ...config.workers[0]!, workingDirectory: join(root, "p1-link") };
    expect(sandboxSummary(linked, { ...config, workers: [linked, config.workers[1]!] }, env).hidden).not.toContain(join(root, "p1"));
  });

  test.skipIf(!detectSandbox().ok)("a .env in the worker's folder that holds a WORKER_TOKEN (left by dev) is hidden; the project's own .env is not", async () => {
    const { root, env, config } = await fixture();
    const envFile = join(root, "p1", ".env");
    writeFileSync(envFile, "DATABASE_URL=postgres://localhost/app\n");
    expect(sandboxSummary(config.workers[0]!, config, env).hidden).not.toContain(envFile);
    writeFileSync(envFile, "DATABASE_URL=postgres://localhost/app\nWORKER_TOKEN=machine_m1:worker_w9:secret_abcdefghij9\n");
    expect(sandboxSummary(config.workers[0]!, config, env).hidden).toContain(envFile);
    // The folder is the agent's: a .env it made a FIFO is passed over, not read (a read would
    // wait for a writer for ever, at the next agent start).
    rmSync(envFile);
    execFileSync("mkfifo", [envFile]);
    expect(sandboxSummary(config.workers[0]!, config, env).hidden).not.toContain(envFile);
  });

  test("auto without bwrap: exposed, with the reason and the fix; on: refused", async () => {
    const { env, config } = await fixture();
    const noBwrap = { ...env, PATH: tempDir("empty-") };
    const auto = sandboxSummary(config.workers[0]!, config, noBwrap);
    expect(auto).toMatchObject({ state: "exposed", hidden: [], writable: [] });
    expect(auto.reason).toContain("apt-get install bubblewrap");
    const on = await fixture({ sandbox: "on" });
    expect(sandboxSummary(on.config.workers[0]!, on.config, noBwrap).state).toBe("refused");
  });

  test("sandbox_network: false is refused, with why", async () => {
    const { config, env } = await fixture({ sandbox_network: false });
    const s = sandboxSummary(config.workers[0]!, config, env);
    expect(s.state).toBe("refused");
    expect(s.reason).toContain("127.0.0.1");
  });

  test("a bad sandbox value in workers.json names the field and the choices", async () => {
    const e = await fixture({ sandbox: "maybe" }).catch((x) => x);
    expect(JSON.stringify(e.issues)).toContain("workers[0].sandbox");
  });
});
