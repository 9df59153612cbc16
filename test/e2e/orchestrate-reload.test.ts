// Hot reload through the real CLI: an invalid edit is rejected and the last good config keeps
// running; a valid edit adds, removes and changes workers without touching an unchanged one —
// whose running answer goes on in the same OpenCode server; a changed one finishes its answer
// before it restarts — and SIGHUP reloads too.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { runCli } from "../support/cli.ts";
import { startWorld, type World } from "../support/e2e.ts";
import { slowAnswerChunks } from "../support/stub-model.ts";
import {
  assertNoSecrets,
  cleanupProcesses,
  configPath,
  metric,
  parsePrometheus,
  startOrchestrate,
  writeConfig,
  type WorkerEntry,
} from "./orchestrate-support.ts";

const SLOW_CHUNKS = 30;
// A SLOW answer tagged `SLOW:<tag>` streams all but its last chunk, then waits until the test
// releases that tag: the answers must span the reloads however slow the machine is.
const releases = new Map<string, () => void>();
const held = new Map<string, Promise<void>>();
function hold(tag: string): Promise<void> {
  if (!held.has(tag)) held.set(tag, new Promise<void>((r) => releases.set(tag, r)));
  return held.get(tag)!;
}
function release(tag: string): void {
  hold(tag);
  releases.get(tag)!();
}
let world: World;
beforeAll(async () => {
  world = await startWorld({
    stub: {
      slowChunks: SLOW_CHUNKS,
      slowChunkGate: (i, r) => {
        const tag = /SLOW:(\w+)/.exec(r.lastUserText)?.[1];
        return tag && i === SLOW_CHUNKS - 1 ? hold(tag) : new Promise((ok) => setTimeout(ok, 50));
      },
    },
  });
});
afterEach(cleanupProcesses);
afterAll(async () => {
  for (const tag of releases.keys()) release(tag);
  await cleanupProcesses();
  await world?.stop();
});

describe("orchestrate reload", () => {
  test("invalid edit kept out, valid edit applied by diff, SIGHUP reloads, unchanged worker's turn untouched", async () => {
    const keeper = await world.addWorker({ name: "keeper", approve: true });
    const goner = await world.addWorker({ name: "goner", approve: true });
    const changer = await world.addWorker({ name: "changer", approve: true });
    const newbie = await world.addWorker({ name: "newbie", approve: true });
    const tokens = [keeper.token, goner.token, changer.token, newbie.token];
    const url = world.backend.url;
    const entries: Record<string, WorkerEntry> = {
      keeper: { name: "keeper", token: keeper.token, working_directory: world.project(), convex_url: url },
      goner: { name: "goner", token: goner.token, working_directory: world.project(), convex_url: url },
      changer: { name: "changer", token: changer.token, working_directory: world.project(), convex_url: url, max_concurrent_sessions: 4 },
      newbie: { name: "newbie", token: newbie.token, working_directory: world.project(), convex_url: url },
    };
    const cfg = configPath();
    writeConfig(cfg, { workers: [entries.keeper!, entries.goner!, entries.changer!] });
    const orch = await startOrchestrate({ target: "binary", config: cfg, env: world.env });
    const ready = (names: string[]) => (s: Awaited<ReturnType<typeof orch.status>>) =>
      names.every((n) => s.workers.find((w) => w.name === n)?.state === "ready");
    const initial = await orch.waitForStatus(ready(["keeper", "goner", "changer"]), "three workers ready");
    const changerSince = initial.workers.find((w) => w.name === "changer")!.since;

    // A long answer runs on the worker that will stay unchanged.
    const session = await world.admin.createSession(keeper.workerId);
    const slow = await world.admin.send(session.sessionId, "SLOW:keeper");
    await world.waitForMessage(slow.messageId, (m) => m.status === "running" && m.text.length > 0, 60_000);
    const keeperPid = (await orch.worker("keeper"))!.opencodePid;
    expect(keeperPid).toBeGreaterThan(1);
    // And one on the worker that will change: it finishes before that worker restarts.
    const changerSession = await world.admin.createSession(changer.workerId);
    const changerSlow = await world.admin.send(changerSession.sessionId, "SLOW:changer");
    await world.waitForMessage(changerSlow.messageId, (m) => m.status === "running" && m.text.length > 0, 60_000);

    // ---- invalid edit: rejected, nothing changes ------------------------------------------
    writeConfig(cfg, {
      workers: [entries.keeper!, { ...entries.changer!, working_dir: "/tmp" } as WorkerEntry, entries.newbie!],
    });
    const rejected = await orch.waitForStatus((s) => s.lastReload?.ok === false, "rejected reload");
    expect(rejected.lastReload!.errors!.join("\n")).toContain("working_dir");
    expect(rejected.reloads).toEqual({ ok: 0, failed: 1 });
    expect(rejected.workers.map((w) => `${w.name}:${w.state}`).sort()).toEqual(["changer:busy", "goner:ready", "keeper:busy"]);
    expect(orch.logs().some((l) => l.level === "error" && /^config change rejected \(file changed\)/.test(l.msg))).toBe(true);
    const table = await runCli("binary", ["status", "--address", orch.address]);
    expect(table.stdout).toMatch(/last reload .*: rejected — .*working_dir/);

    // ---- valid edit: add newbie, remove goner, change changer, keep keeper -----------------
    const writtenAt = Date.now();
    writeConfig(cfg, {
      shutdown_timeout: 1, // checked at the end: the drain deadline follows the reloaded file
      workers: [entries.keeper!, { ...entries.changer!, max_concurrent_sessions: 2 }, entries.newbie!],
    });
    const applied = await orch.waitForStatus((s) => s.lastReload?.ok === true, "applied reload");
    const reloadLine = await orch.waitForLog((l) => l.msg === "config reloaded (file changed)", "reload log line");
    console.log(`[measure] reload applied ${Date.parse(reloadLine.time) - writtenAt} ms after the file was written (300 ms debounce)`);
    expect(applied.lastReload).toMatchObject({ ok: true, added: ["newbie"], removed: ["goner"], changed: ["changer"], unchanged: ["keeper"] });
    // The old changer drains its answer while its replacement waits: both show, /metrics still parses.
    const overlap = await orch.status();
    expect(overlap.workers.filter((w) => w.name === "changer").map((w) => w.state).sort()).toEqual(["draining", "stopped"]);
    const during = parsePrometheus((await orch.get("/metrics")).body);
    expect(metric(during, "opencode_orchestrator_turns_running", { worker: "changer" })).toBe(1);
    release("changer");
    const after = await orch.waitForStatus(
      (s) => ready(["changer", "newbie"])(s) && !s.workers.some((w) => w.name === "goner") && s.workers.length === 3,
      "newbie and changer ready, goner gone",
    );
    expect(await world.admin.message(changerSlow.messageId)).toMatchObject({ status: "completed" });
    // The restarted worker carries its counts on.
    expect(after.workers.find((w) => w.name === "changer")!.turns.completed).toBe(1);
    expect(after.workers.find((w) => w.name === "changer")!.since > changerSince).toBe(true);
    expect((await world.admin.list()).find((w) => w.workerId === goner.workerId)?.status).toBe("offline");

    // ---- SIGHUP reloads the same file: nothing to do, counted ------------------------------
    orch.proc.kill("SIGHUP");
    const hup = await orch.waitForStatus((s) => s.reloads.ok === 2, "SIGHUP reload");
    expect(hup.lastReload).toMatchObject({ ok: true, added: [], removed: [], changed: [] });
    expect(hup.lastReload!.unchanged.sort()).toEqual(["changer", "keeper", "newbie"]);
    expect(orch.logs().some((l) => l.msg === "config reloaded (SIGHUP)")).toBe(true);

    // The answer that ran through all of it completed, in the same OpenCode server.
    release("keeper");
    const done = await world.waitForMessage(slow.messageId);
    expect(done.status).toBe("completed");
    expect(done.text).toBe(slowAnswerChunks(SLOW_CHUNKS).join(""));
    const keeperAfter = (await orch.worker("keeper"))!;
    expect(keeperAfter.opencodePid).toBe(keeperPid);
    expect(keeperAfter.restarts).toBe(0);
    expect(keeperAfter.turns.completed).toBe(1);

    // The added worker serves.
    const s2 = await world.admin.createSession(newbie.workerId);
    const m2 = await world.admin.send(s2.sessionId, "ECHO:hello newbie");
    expect(await world.waitForMessage(m2.messageId)).toMatchObject({ status: "completed", text: "hello newbie" });

    const metrics = parsePrometheus((await orch.get("/metrics")).body);
    expect(metric(metrics, "opencode_orchestrator_config_reloads_total", { result: "ok" })).toBe(2);
    expect(metric(metrics, "opencode_orchestrator_config_reloads_total", { result: "rejected" })).toBe(1);
    expect(metric(metrics, "opencode_orchestrator_turns_total", { worker: "keeper", outcome: "completed" })).toBe(1);
    expect(metric(metrics, "opencode_orchestrator_turns_total", { worker: "goner", outcome: "completed" })).toBeUndefined();

    for (const path of ["/status", "/metrics"]) assertNoSecrets(path, (await orch.get(path)).body, tokens);
    // Shutdown uses the reloaded shutdown_timeout (1 s), not the one the process started with (30 s).
    const last = await world.admin.send(s2.sessionId, "SLOW:last"); // never released
    await world.waitForMessage(last.messageId, (m) => m.status === "running" && m.text.length > 0);
    orch.proc.kill("SIGTERM");
    expect((await orch.proc.exited).code).toBe(0);
    expect(orch.logs().some((l) => l.msg === "drain deadline (1 s) reached: interrupting running answers")).toBe(true);
    expect(await world.admin.message(last.messageId)).toMatchObject({ status: "interrupted" });
    assertNoSecrets("orchestrate stderr", orch.proc.stderr, tokens);
  }, 150_000);
});
