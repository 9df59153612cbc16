// Many prompts through a real `orchestrate` (compiled binary, 3 workers, real OpenCode with the
// stub model, embedded backend): every message must end `completed` with its own answer, and
// the timings show what a host of this size sustains. Run after `npm run build`:
//   OCO_TEST_ROOT=$(mktemp -d) bun bench/orchestrate-throughput.ts [prompts=30]
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startCli } from "../test/support/cli.ts";
import { startWorld } from "../test/support/e2e.ts";

if (!process.env.OCO_TEST_ROOT) throw new Error("set OCO_TEST_ROOT to a scratch folder");
for (const k of ["HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"]) delete process.env[k];
const PROMPTS = Number(process.argv[2] ?? 30);
const world = await startWorld();
const names = ["w1", "w2", "w3"];
const workers = await Promise.all(names.map((name) => world.addWorker({ name, approve: true })));
const config = join(process.env.OCO_TEST_ROOT, "workers.json");
writeFileSync(
  config,
  JSON.stringify({
    status_address: "off",
    workers: workers.map((w, i) => ({ name: names[i], token: w.token, working_directory: world.project(), convex_url: world.backend.url })),
  }),
  { mode: 0o600 },
);
const orch = startCli("binary", ["orchestrate", "--config", config], { env: world.env });
try {
  await orch.waitFor(/3 workers: 3 ready/, { stream: "stderr", timeoutMs: 60_000 });
  // Two sessions per worker; prompts spread round-robin.
  const sessions = await Promise.all(
    workers.flatMap((w) => [0, 1].map(() => world.admin.createSession(w.workerId, "bench").then((s) => s.sessionId))),
  );
  const t0 = performance.now();
  const sent = await Promise.all(
    Array.from({ length: PROMPTS }, (_, i) => world.admin.send(sessions[i % sessions.length]!, `ECHO:answer ${i}`).then((r) => ({ i, ...r }))),
  );
  const done = await Promise.all(sent.map((s) => world.waitForMessage(s.messageId, undefined, 300_000).then((m) => ({ ...s, m, at: performance.now() }))));
  const wall = performance.now() - t0;
  const bad = done.filter((d) => d.m.status !== "completed" || d.m.text !== `answer ${d.i}`);
  const batches = done.reduce((n, d) => n + d.m.outputBatches, 0);
  console.log(`${PROMPTS} prompts, 3 workers, 6 sessions: all done in ${(wall / 1000).toFixed(1)} s`);
  console.log(`  ${(PROMPTS / (wall / 1000)).toFixed(2)} answers/s, ${batches} output batches, ${bad.length} wrong or not completed`);
  if (bad.length > 0) {
    console.log(bad.map((b) => `  #${b.i}: ${b.m.status} ${JSON.stringify(b.m.text)} ${b.m.reason ?? ""}`).join("\n"));
    process.exitCode = 1;
  }
} finally {
  orch.kill("SIGTERM");
  await orch.exited;
  await world.stop();
}
