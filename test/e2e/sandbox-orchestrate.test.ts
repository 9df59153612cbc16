// `orchestrate` with two sandboxed workers through the real CLI: each agent sees neither the
// other's folder nor workers.json nor the token file; /status shows the sandbox; a SIGKILLed
// orchestrator takes its sandboxed OpenCode with it, and the next start clears the record.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { detectSandbox } from "../../src/agent/sandbox/index.ts";
import { startWorld, type World } from "../support/e2e.ts";
import { slowAnswerChunks, TOOL_FINAL_ANSWER } from "../support/stub-model.ts";
import { tempDir } from "../support/tmp.ts";
import { cleanupProcesses, configPath, pidAlive, sleep, startOrchestrate, waitUntil, writeConfig } from "./orchestrate-support.ts";

let world: World;
beforeAll(async () => {
  world = await startWorld({ stub: { slowChunks: 20, slowChunkDelayMs: 300 } });
});
afterEach(cleanupProcesses);
afterAll(async () => {
  await cleanupProcesses();
  await world?.stop();
});

function agentRecords(): string[] {
  const dir = join(world.env.XDG_STATE_HOME!, "opencode-orchestrator", "agents");
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
}

function permissive(): Record<string, string> {
  const config = JSON.parse(world.env.OPENCODE_CONFIG_CONTENT!);
  return { ...world.env, OPENCODE_CONFIG_CONTENT: JSON.stringify({ ...config, permission: { external_directory: "allow", bash: "allow", read: "allow" } }) };
}

describe.skipIf(!detectSandbox().ok)("orchestrate with sandboxed workers", () => {
  test("each agent sees neither the other worker's folder, workers.json nor a token file; /status says on (bwrap)", async () => {
    const a = await world.addWorker({ name: "alpha", approve: true });
    const b = await world.addWorker({ name: "beta", approve: true });
    const cfg = configPath();
    const tokenFile = join(tempDir("tokens-"), "beta.token");
    writeFileSync(tokenFile, b.token + "\n", { mode: 0o600 });
    const dirA = world.project();
    const dirB = world.project();
    writeFileSync(join(dirB, "beta-notes.txt"), "secret_BETANOTES\n");
    writeConfig(cfg, {
      workers: [
        { name: "alpha", token: a.token, working_directory: dirA, convex_url: world.backend.url },
        { name: "beta", token_file: tokenFile, working_directory: dirB, convex_url: world.backend.url },
      ],
    });
    const orch = await startOrchestrate({ target: "binary", config: cfg, env: permissive() });
    const ready = await orch.waitForStatus((s) => s.workers.every((w) => w.state === "ready"), "both ready");
    for (const w of ready.workers) expect(w.sandbox).toEqual({ mode: "auto", state: "on", kind: "bwrap" });

    const { sessionId } = await world.admin.createSession(a.workerId, "peek");
    const probe = `for f in '${cfg}' '${tokenFile}' '${join(dirB, "beta-notes.txt")}'; do cat "$f"; done > probe.txt 2>&1; ls '${dirB}' >> probe.txt 2>&1; true`;
    const msg = await world.admin.send(sessionId, `TOOLCMD: ${probe}`);
    expect(await world.waitForMessage(msg.messageId)).toMatchObject({ status: "completed", text: TOOL_FINAL_ANSWER });
    const out = readFileSync(join(dirA, "probe.txt"), "utf8");
    for (const s of [a.token.split(":secret_")[1]!, b.token.split(":secret_")[1]!, "secret_BETANOTES"]) expect(out).not.toContain(s);
    expect(out.match(/No such file or directory/g)?.length).toBe(4);

    orch.proc.kill("SIGTERM");
    expect((await orch.proc.exited).code).toBe(0);
    expect(agentRecords()).toEqual([]);
  }, 180_000);

  test("a SIGKILLed orchestrator takes its sandboxed OpenCode along; the next start clears the record and ends the answer", async () => {
    const w = await world.addWorker({ name: "killed", approve: true });
    const cfg = configPath();
    writeConfig(cfg, { workers: [{ name: "killed", token: w.token, working_directory: world.project(), convex_url: world.backend.url, heartbeat_interval: 1 }] });
    const orch = await startOrchestrate({ target: "binary", config: cfg, env: world.env });
    await orch.waitForStatus((s) => s.workers[0]?.state === "ready", "ready");
    const { sessionId } = await world.admin.createSession(w.workerId);
    const slow = await world.admin.send(sessionId, "SLOW");
    await world.waitForMessage(slow.messageId, (m) => m.status === "running" && m.text.length > 0, 60_000);
    const pid = (await orch.status()).workers[0]!.opencodePid!;
    expect(pidAlive(pid)).toBe(true);
    orch.proc.kill("SIGKILL");
    await orch.proc.exited;
    await waitUntil(() => !pidAlive(pid), "sandboxed OpenCode gone with its orchestrator", 10_000);
    expect(agentRecords()).toEqual([`${pid}.json`]);

    const next = await startOrchestrate({ target: "binary", config: cfg, env: world.env });
    await next.waitForStatus((s) => s.workers[0]?.state === "ready", "ready again");
    const m = await world.waitForMessage(slow.messageId, undefined, 30_000);
    expect(m.status).toBe("interrupted");
    expect(slowAnswerChunks(20).length).toBeGreaterThan(0);
    next.proc.kill("SIGTERM");
    expect((await next.proc.exited).code).toBe(0);
    await sleep(100);
    expect(agentRecords()).toEqual([]);
  }, 180_000);
});
