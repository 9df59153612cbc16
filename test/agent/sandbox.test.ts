// The agent's sandbox with a real OpenCode (stub model, tool-call mode) and real bubblewrap:
// what the agent's shell can and cannot reach, and that stopping it leaves nothing behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectSandbox, SandboxUnavailable } from "../../src/agent/sandbox/index.ts";
import { AGENT_MARKER_VAR, agentsDir, reapLeftoverAgents } from "../../src/agent/index.ts";
import { harness, turn, type Harness } from "./helpers.ts";
import { markedWith, secretWorld, type SecretWorld } from "../support/sandbox-world.ts";
import { OPENCODE_BIN_DIR, opencodeTestEnv } from "../support/opencode-env.ts";

const hasBwrap = detectSandbox().ok;
let h: Harness;
let world: SecretWorld;
let bystander: ChildProcess;
let env: NodeJS.ProcessEnv;
let outside: string;

beforeAll(async () => {
  h = await harness();
  // Outside /tmp, so that each secret is hidden by its own mount and not just by the private /tmp.
  outside = mkdtempSync("/var/tmp/oco-sandbox-test-");
  const base = { ...h.env, ...opencodeTestEnv(h.stub.url, { root: join(outside, "home") }) };
  world = secretWorld(base, outside);
  // The owner allows it all, as an unattended agent is configured: only the sandbox stands in the way.
  const config = JSON.parse(base.OPENCODE_CONFIG_CONTENT!);
  env = { ...base, OPENCODE_CONFIG_CONTENT: JSON.stringify({ ...config, permission: { external_directory: "allow", bash: "allow", read: "allow", edit: "allow" } }) };
  // Stands for any other process of the user, e.g. an orchestrator started with the admin key exported.
  bystander = spawn("sleep", ["300"], { env: { ...process.env, CONVEX_ADMIN_KEY: "secret_BYSTANDERENV" }, stdio: "ignore" });
});

afterAll(async () => {
  bystander.kill("SIGKILL");
  await h.close();
  rmSync(outside, { recursive: true, force: true });
  rmSync(join("/tmp", tmpProbe), { force: true }); // written by the unsandboxed run
});


const markerOf = (pid: number) =>
  readFileSync(`/proc/${pid}/environ`, "utf8")
    .split("\0")
    .find((v) => v.startsWith(`${AGENT_MARKER_VAR}=`))!
    .split("=")[1]!;

/** Runs one bash tool call in a fresh session and returns what the tool printed. */
async function shell(agent: Awaited<ReturnType<Harness["start"]>>, command: string): Promise<{ output: string; outcome: string }> {
  const session = await agent.createSession("sandbox probe");
  const before = h.stub.requests.length;
  const r = await turn(agent, session, `TOOLCMD:${command}`).done;
  const toolMsg = h.stub.requests
    .slice(before)
    .flatMap((q) => (q.body?.messages ?? []) as { role: string; content: unknown }[])
    .find((m) => m.role === "tool");
  return { output: JSON.stringify(toolMsg?.content ?? ""), outcome: r.outcome };
}

const tmpProbe = `oco-sandbox-tmp-probe-${process.pid}`;

function probeCommand(): string {
  const f = world.files;
  const reads = [f.workersJson, f.tokenFile, f.envFile, f.adminKey, f.otherNotes, `/proc/${process.pid}/environ`, `/proc/${bystander.pid}/environ`, `/proc/${process.pid}/cmdline`];
  return [
    ...reads.map((p) => `(cat '${p}' 2>/dev/null | tr '\\0' ' ' | grep -q . && echo 'READ ${p}' && cat '${p}' | tr '\\0' ' ') || echo 'DENIED ${p}'`),
    "echo mine > own.txt && cat own.txt && echo OWN_OK",
    "git status --short >/dev/null && echo GIT_OK",
    `echo t > "\${TMPDIR:-/tmp}/${tmpProbe}" && echo TMP_OK`,
  ].join("; ");
}

describe.skipIf(!hasBwrap)("sandboxed OpenCode (bubblewrap)", () => {
  test("the agent's shell reads none of our secrets, other workers or processes, and works in its own folder", async () => {
    const agent = await h.start({ directory: world.directory, env, sandbox: await world.request() });
    const { output, outcome } = await shell(agent, probeCommand());
    expect(outcome).toBe("completed");
    for (const s of [...world.secrets, "secret_BYSTANDERENV"]) expect(output).not.toContain(s);
    expect(output).not.toContain("READ ");
    expect(output.match(/DENIED /g)?.length).toBe(8);
    expect(output).toContain("OWN_OK");
    expect(output).toContain("GIT_OK");
    expect(output).toContain("TMP_OK");
    expect(readFileSync(join(world.directory, "own.txt"), "utf8")).toBe("mine\n");
    // Its private /tmp is not the host's.
    expect(existsSync(join("/tmp", tmpProbe))).toBe(false);
    await agent.stop();
  }, 120_000);

  test("without the sandbox the same probe does read them (the probe can fail)", async () => {
    const agent = await h.start({ directory: world.directory, env, sandbox: await world.request({ mode: "off" }) });
    const { output } = await shell(agent, probeCommand());
    for (const s of [...world.secrets, "secret_BYSTANDERENV"]) expect(output).toContain(s);
    await agent.stop();
  }, 120_000);

  test("an OpenCode that lives under /tmp (a checkout there) still runs: the private /tmp keeps it visible", async () => {
    // A hard link: the same executable at a path the sandbox's private /tmp would cover.
    const dir = mkdtempSync(join(tmpdir(), "oco-opencode-under-tmp-"));
    const exe = join(dir, "opencode");
    linkSync(realpathSync(join(OPENCODE_BIN_DIR, "opencode")), exe);
    try {
      const agent = await h.start({ directory: world.directory, env, opencodePath: exe, sandbox: await world.request() });
      const { output, outcome } = await shell(agent, "echo RAN_INSIDE");
      expect(outcome).toBe("completed");
      expect(output).toContain("RAN_INSIDE");
      await agent.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  test("writing outside its folder fails: the rest of the file system is read-only", async () => {
    const agent = await h.start({ directory: world.directory, env, sandbox: await world.request() });
    // Not under /tmp: the sandbox's /tmp is a private one where writes succeed harmlessly.
    const target = join("/var/tmp", `oco-sandbox-probe-${process.pid}`);
    const { output } = await shell(agent, `echo x > '${target}' 2>/dev/null && echo WROTE || echo NOWRITE`);
    expect(output).toContain("NOWRITE");
    const leaked = existsSync(target);
    rmSync(target, { force: true });
    expect(leaked).toBe(false);
    await agent.stop();
  }, 120_000);

  test("in a git worktree of another worker's repository the agent commits, and that worker's files stay hidden", async () => {
    const repo = mkdtempSync(join(outside, "repo-"));
    const git = (cwd: string, ...args: string[]) => execFileSync("git", ["-C", cwd, "-c", "user.name=t", "-c", "user.email=t@t", ...args], { stdio: "pipe" });
    git(repo, "init", "-q");
    writeFileSync(join(repo, "notes.txt"), "secret_REPOWORKER\n");
    git(repo, "add", "-A");
    git(repo, "commit", "-qm", "init");
    const worktree = join(outside, "worktree");
    git(repo, "worktree", "add", "-q", worktree);
    const request = await world.request();
    const agent = await h.start({ directory: worktree, env, sandbox: { ...request, secrets: [...request.secrets, repo] } });
    const commit = "echo change > wt.txt && git add wt.txt && git -c user.name=a -c user.email=a@a commit -qm 'from the agent' && echo COMMIT_OK";
    const { output, outcome } = await shell(agent, `${commit}; cat '${join(repo, "notes.txt")}' 2>/dev/null || echo DENIED`);
    expect(outcome).toBe("completed");
    expect(output).toContain("COMMIT_OK");
    expect(output).toContain("DENIED");
    expect(output).not.toContain("secret_REPOWORKER");
    expect(git(worktree, "log", "-1", "--format=%s").toString().trim()).toBe("from the agent");
    await agent.stop();
  }, 120_000);

  test("stop during a running tool leaves no process of the sandbox behind", async () => {
    const agent = await h.start({ directory: world.directory, env, sandbox: await world.request() });
    const marker = markerOf(agent.pid);
    const session = await agent.createSession("long tool");
    const run = turn(agent, session, "TOOLCMD:sleep 300 & sleep 300");
    await h.stub.waitForRequest((r) => r.mode === "tool-call", 60_000);
    // bwrap, its init, OpenCode, the shell and both sleeps.
    const deadline = Date.now() + 30_000;
    while (markedWith(marker).length < 5 && Date.now() < deadline) await Bun.sleep(100);
    expect(markedWith(marker).length).toBeGreaterThanOrEqual(5);
    await agent.stop();
    await run.done;
    expect(markedWith(marker)).toEqual([]);
  }, 120_000);

  test("the leftover reaper stops a sandboxed server whose orchestrator is gone", async () => {
    const agent = await h.start({ directory: world.directory, env, sandbox: await world.request() });
    const marker = markerOf(agent.pid);
    const record = join(agentsDir(), `${agent.pid}.json`);
    const rec = JSON.parse(readFileSync(record, "utf8"));
    const dead = spawn("true");
    await new Promise((r) => dead.on("exit", r));
    writeFileSync(record, JSON.stringify({ ...rec, ownerPid: dead.pid }));
    const result = await reapLeftoverAgents(h.log, { timeoutMs: 5_000 });
    expect(result.stopped).toContain(agent.pid);
    expect(markedWith(marker)).toEqual([]);
    await agent.stop();
  }, 120_000);
});

describe("sandbox unavailable", () => {
  test('"on" without bubblewrap on PATH: a typed error naming the install, and nothing started', async () => {
    const records = () => (existsSync(agentsDir()) ? readdirSync(agentsDir()) : []).length;
    const before = records();
    const noBwrap = { ...env, PATH: OPENCODE_BIN_DIR };
    const err = await h.start({ directory: world.directory, env: noBwrap, sandbox: await world.request({ mode: "on" }) }).catch((e) => e);
    expect(err).toBeInstanceOf(SandboxUnavailable);
    expect(err.message).toContain("bubblewrap");
    expect(err.hint).toContain("apt-get install bubblewrap");
    expect(records()).toBe(before);
  });

  test('sandbox_network: false is refused with the reason', async () => {
    const err = await h.start({ directory: world.directory, env, sandbox: await world.request({ network: false }) }).catch((e) => e);
    expect(err).toBeInstanceOf(SandboxUnavailable);
    expect(err.message).toContain("sandbox_network");
    expect(err.message).not.toContain('sandbox is "on"');
  });
});
