// `dev` from the outside, before any prompt: waiting for approval and going online when the
// owner approves (without a restart), stopping for good when revoked, the first-run setup on
// a terminal, and the clear error without one. All through the real CLI, on both targets.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { BINARY, CLI_TARGETS, NODE, NODE_BUNDLE, type CliTarget } from "../support/cli.ts";
import { admin, childrenOf, startDev, startOnlineDev, useWorld } from "./dev-support.ts";

const T = 60_000;

const world = useWorld();

async function workerRow(workerId: string) {
  return (await world.admin.list()).find((w) => w.workerId === workerId)!;
}

async function waitForRow(workerId: string, pred: (w: Awaited<ReturnType<typeof workerRow>>) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await workerRow(workerId);
    if (pred(row)) return row;
    if (Date.now() > deadline) throw new Error(`worker row never matched: ${JSON.stringify(row)}`);
    await Bun.sleep(100);
  }
}

for (const target of CLI_TARGETS) {
  describe(`dev (${target})`, () => {
    test("pending → approved with `admin approve` → online, without restarting dev; the approval hint is printed", async () => {
      const w = await world.addWorker({ name: `pending-${target}` });
      const dev = startDev(target, world, { cwd: world.project(), token: w.token });
      await dev.waitFor(/awaiting_approval/, { stream: "stderr" });
      // The hint names the exact command to run.
      await dev.waitFor(new RegExp(`approve it with: opencode-orchestrator admin approve ${w.name} \\(id ${w.workerId}\\)`), { stream: "stderr" });
      expect(dev.stderr).not.toMatch(/\bonline\b/);
      expect((await workerRow(w.workerId)).approval).toBe("pending");

      const approved = await admin(target, world, ["approve", w.name]);
      expect(approved.code).toBe(0);
      expect(approved.stderr).toContain(`Approved worker "${w.name}"`);

      await dev.waitFor(/\bonline\b/, { stream: "stderr" });
      const row = await waitForRow(w.workerId, (r) => r.status === "online");
      expect(row.approval).toBe("approved");
      expect(row.directory).toBeTruthy();
      // Online means heartbeating.
      expect((await waitForRow(w.workerId, (r) => r.lastHeartbeatAt !== null)).lastHeartbeatAt).toBeGreaterThan(0);
      // Same process all along.
      expect(dev.child.exitCode).toBeNull();
      // OpenCode starts lazily, with the first prompt: an idle worker runs none (its models are
      // listed at start by a short-lived `opencode models`, gone once they are published).
      await dev.waitFor(/models published/, { stream: "stderr", timeoutMs: 60_000 });
      expect(dev.stderr).not.toContain("starting OpenCode");
      expect(childrenOf(dev.child.pid!)).toEqual([]);

      dev.kill("SIGTERM");
      expect((await dev.exited).code).toBe(0);
      // Stopping takes the worker offline.
      expect((await workerRow(w.workerId)).status).toBe("offline");
    }, T);

    // 78, not 1: only a new token helps, so a service manager must not restart it (issue 8, item 4).
    test("revoked while online → needs_reauth with the fix, dev exits 78", async () => {
      const { worker, dev } = await startOnlineDev(target, world);
      const revoked = await admin(target, world, ["revoke", worker.workerId]);
      expect(revoked.code).toBe(0);
      const exit = await dev.exited;
      expect(exit.code).toBe(78);
      expect(dev.stderr).toMatch(/needs_reauth/);
      expect(dev.stderr).toContain("this worker was revoked");
      // The fix: a new token, then approval.
      expect(dev.stderr).toContain("opencode-orchestrator admin add-worker");
      expect(dev.stderr).toMatch(/no worker can run/);
    }, T);

    test("no terminal and nothing configured → exit 78 naming WORKER_TOKEN and CONVEX_URL, nothing written", async () => {
      const cwd = world.project();
      const dev = startDev(target, world, { cwd, env: { CONVEX_URL: undefined, WORKER_TOKEN: undefined } });
      const exit = await dev.exited;
      expect(exit.code).toBe(78);
      expect(dev.stdout).toBe("");
      expect(dev.stderr).toContain("WORKER_TOKEN");
      expect(dev.stderr).toContain("CONVEX_URL");
      expect(dev.stderr).toContain("is not set");
      expect(dev.stderr).not.toMatch(/^\s+at .+:\d+/m);
      expect(existsSync(join(cwd, ".env"))).toBe(false);
    }, T);

    test("first run on a terminal walks through setup, saves .env 0600, then connects and awaits approval", async () => {
      const w = await world.addWorker({ name: `setup-${target}` });
      const cwd = world.project();
      const pty = startInPty(target, cwd, { ...world.env, CONVEX_URL: undefined, WORKER_TOKEN: undefined });
      try {
        await pty.waitFor(/Worker token/);
        pty.type(`${w.token}\r`);
        await pty.waitFor(/Convex deployment URL/);
        pty.type(`${world.backend.url}\r`);
        await pty.waitFor(/awaiting_approval/);
        await pty.waitFor(new RegExp(`admin approve ${w.name} \\(id ${w.workerId}\\)`));
        const envFile = join(cwd, ".env");
        expect(readFileSync(envFile, "utf8")).toBe(`WORKER_TOKEN=${w.token}\nCONVEX_URL=${world.backend.url}\n`);
        expect(statSync(envFile).mode & 0o777).toBe(0o600);
        // The token was typed into a masked prompt: its secret never shows on the terminal.
        expect(pty.text()).not.toContain(w.token.split(":secret_")[1]!);
        const row = await waitForRow(w.workerId, (r) => r.directory !== null);
        expect(row.approval).toBe("pending");
        pty.kill("SIGTERM");
        expect(await pty.exited).toBe(0);
      } finally {
        pty.kill("SIGKILL");
      }
    }, T);
  });
}

test("a token the backend rejects (wrong secret) → needs_reauth with the fix, exit 78, the secret never printed", async () => {
  const w = await world.addWorker({ approve: true });
  const wrong = w.token.replace(/secret_.*/, "secret_thisIsNotTheRightSecret0123456789abcd");
  const dev = startDev("binary", world, { cwd: world.project(), token: wrong });
  const exit = await dev.exited;
  expect(exit.code).toBe(78);
  expect(dev.stderr).toMatch(/needs_reauth/);
  expect(dev.stderr).toContain("rejected this worker's token");
  expect(dev.stderr).toContain("opencode-orchestrator admin add-worker");
  expect(dev.stderr).not.toContain("thisIsNotTheRightSecret");
  expect(dev.stderr).not.toContain(w.token.split(":secret_")[1]!);
}, T);

test("a backend that does not answer is named in the log (check the URL); SIGTERM still exits 0", async () => {
  const w = await world.addWorker({ approve: true });
  const url = "http://127.0.0.1:9"; // nothing listens on the discard port
  const dev = startDev("binary", world, { cwd: world.project(), token: w.token, env: { CONVEX_URL: url } });
  await dev.waitFor(new RegExp(`warn .*cannot reach the backend at ${url.replace(/\./g, "\\.")} yet`), { stream: "stderr" });
  expect(dev.stderr).not.toMatch(/\bonline\b/);
  dev.kill("SIGTERM");
  expect((await dev.exited).code).toBe(0);
}, T);

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

/** The CLI's `dev` under a pseudo-terminal, so stdin and stderr are TTYs as for a person. */
function startInPty(target: CliTarget, cwd: string, env: Record<string, string | undefined>) {
  let raw = "";
  const decoder = new TextDecoder();
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, TERM: "xterm-256color", ...env })) if (v !== undefined) merged[k] = v;
  const cmd = target === "binary" ? [BINARY, "dev"] : [NODE, NODE_BUNDLE, "dev"];
  const proc = Bun.spawn(cmd, {
    cwd,
    env: merged,
    terminal: { cols: 160, rows: 50, data: (_t, d) => (raw += decoder.decode(d, { stream: true })) },
  });
  const text = () => raw.replace(ANSI, "");
  return {
    text,
    type: (keys: string) => void proc.terminal!.write(keys),
    kill: (signal: NodeJS.Signals) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
    exited: proc.exited,
    async waitFor(pattern: RegExp, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; terminal so far:\n${text()}`);
        await Bun.sleep(25);
      }
    },
  };
}
