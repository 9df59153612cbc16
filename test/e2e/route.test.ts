// Routing by tags as a new user tries it: `orchestrate` runs two workers on two folders, both
// tagged api, each taking 4 sessions at once; a script runs `chat --tag api` twenty times in
// parallel, as separate processes. The stub holds every answer until all twenty were sent, so
// the split is known: 4 + 4 routed at once, 12 waiting, routed as answers finish. Every chat
// gets its own complete answer, from both workers; none is lost, none is answered twice.
import { describe, expect, test } from "bun:test";
import { runCli, startCli } from "../support/cli.ts";
import type { Running } from "../support/proc.ts";
import { slowAnswerChunks } from "../support/stub-model.ts";
import { adminEnv, answers, sessionOf } from "./dev-support.ts";
import { configPath, metric, parsePrometheus, startOrchestrate, useOrchestrateWorld, waitUntil, writeConfig } from "./orchestrate-support.ts";

const CHATS = 20;
const CAPACITY = 4;
const SLOW_CHUNKS = 3;
const ANSWER = slowAnswerChunks(SLOW_CHUNKS).join("");

let release: () => void = () => {};
const released = new Promise<void>((r) => (release = r));
const world = useOrchestrateWorld({ stub: { slowChunks: SLOW_CHUNKS, slowChunkGate: () => released } });

const routedTo = (stderr: string) => [...stderr.matchAll(/routed to worker "([^"]+)"/g)].map((m) => m[1]!);

describe("chat --tag: routing and load balancing over two workers", () => {
  test("twenty parallel chats: 4 + 4 at once, the rest wait and follow; every answer comes back once, from both workers", async () => {
    const url = world.backend.url;
    const names = ["api-1", "api-2"];
    const tokens: string[] = [];
    for (const name of names) tokens.push((await world.addWorker({ name, approve: true })).token);
    const entry = (i: number) => ({
      name: names[i],
      token: tokens[i],
      working_directory: world.project(names[i]),
      convex_url: url,
      tags: ["api"],
      max_concurrent_sessions: CAPACITY,
    });
    const cfg = configPath();
    writeConfig(cfg, JSON.stringify({ workers: [entry(0), entry(1)] }));
    const orch = await startOrchestrate({ target: "binary", config: cfg, env: world.env });
    await waitUntil(async () => {
      const listed = (await world.admin.list()).filter((w) => names.includes(w.name));
      return listed.length === 2 && listed.every((w) => w.status === "online" && w.tags.join() === "api" && w.capacity === CAPACITY);
    }, "both workers online with their tags and capacity", 60_000);
    // The tags show where people look: admin list, status, /metrics.
    const listed = await runCli("binary", ["admin", "list"], { env: adminEnv(world) });
    for (const name of names) expect(listed.stdout).toContain(`${name} [api]`);
    expect((await orch.status()).workers.map((w) => w.tags)).toEqual([["api"], ["api"]]);
    const metrics = parsePrometheus((await orch.get("/metrics")).body);
    for (const name of names) expect(metric(metrics, "opencode_orchestrator_worker_info", { worker: name, tags: "api" })).toBe(1);

    const chats: Running[] = [];
    const prompt = (i: number) => `SLOW route task ${i}`;
    for (let i = 0; i < CHATS; i++) {
      const json = i % 2 === 0 ? ["--json"] : [];
      chats.push(startCli("binary", ["chat", "--tag", "api", ...json, prompt(i)], { env: adminEnv(world) }));
    }
    try {
      // Every chat says where its prompt went; no answer can end before the gate opens.
      await Promise.all(chats.map((c) => c.waitFor(/routed to worker|waiting for a worker tagged api/, { stream: "stderr", timeoutMs: 90_000 })));
      const first = chats.map((c) => routedTo(c.stderr)[0] ?? "waiting");
      expect(first.filter((w) => w === "api-1")).toHaveLength(CAPACITY);
      expect(first.filter((w) => w === "api-2")).toHaveLength(CAPACITY);
      expect(first.filter((w) => w === "waiting")).toHaveLength(CHATS - 2 * CAPACITY);
      for (const [i, c] of chats.entries()) if (first[i] === "waiting") expect(c.stderr).toContain("every one that has them is busy");
      release();

      const results = await Promise.all(chats.map((c) => c.exited));
      // Known OpenCode pids are reaped after the test whatever happens; a clean stop ends them itself.
      await orch.status();
      for (const [i, c] of chats.entries()) {
        expect({ i, code: results[i]!.code, stderr: c.stderr }).toEqual({ i, code: 0, stderr: expect.any(String) });
        const worker = routedTo(c.stderr);
        expect(worker).toHaveLength(1);
        if (i % 2 === 0) {
          const events = c.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
          expect(events.filter((e) => e.type === "routed")).toEqual([{ type: "routed", worker: worker[0], workerId: expect.any(String), tags: ["api"] }]);
          expect(events.filter((e) => e.type === "text").map((e) => e.text).join("")).toBe(ANSWER);
          expect(events.at(-1)).toMatchObject({ type: "end", status: "completed" });
          expect(events.some((e) => e.type === "waiting")).toBe(first[i] === "waiting");
        } else {
          expect(c.stdout).toBe(`${ANSWER}\n`);
        }
        // The backend holds one prompt and one completed answer in this chat's own session.
        const session = await world.admin.messages(sessionOf(c.stderr));
        expect(session.map((m) => [m.role, m.role === "user" ? m.text : m.status])).toEqual([
          ["user", prompt(i)],
          ["assistant", "completed"],
        ]);
      }
      // Both workers answered, and the model was asked each prompt exactly once.
      const by = chats.map((c) => routedTo(c.stderr)[0]);
      for (const name of names) expect(by.filter((w) => w === name).length).toBeGreaterThanOrEqual(CAPACITY);
      const asked = world.stub.completions().map((r) => r.lastUserText);
      for (let i = 0; i < CHATS; i++) expect(asked.filter((t) => t === prompt(i))).toHaveLength(1);
      const sessions = new Set(chats.map((c) => sessionOf(c.stderr)));
      expect(sessions.size).toBe(CHATS);
      for (const s of sessions) expect(await answers(world, s)).toHaveLength(1);
      orch.proc.kill("SIGTERM");
      expect((await orch.proc.exited).code).toBe(0);
    } finally {
      release();
      for (const c of chats) if (c.child.exitCode === null) c.kill("SIGKILL");
    }
  }, 300_000);
});
