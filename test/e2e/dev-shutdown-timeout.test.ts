// dev's drain deadline is WORKER_SHUTDOWN_TIMEOUT (issue 8, item 18): from .env (or the environment),
// with workers.json's bounds; an answer longer than it is interrupted when it runs out.
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDev, waitForText, useWorld } from "./dev-support.ts";

const world = useWorld({ stub: { slowChunks: 60, slowChunkDelayMs: 400 } });

test("WORKER_SHUTDOWN_TIMEOUT=1 in .env: Ctrl+C gives the running answer 1 s, then interrupts it; exit 0", async () => {
  const w = await world.addWorker({ approve: true });
  const cwd = world.project();
  writeFileSync(join(cwd, ".env"), `WORKER_TOKEN=${w.token}\nWORKER_SHUTDOWN_TIMEOUT=1\n`, { mode: 0o600 });
  const dev = startDev("binary", world, { cwd });
  await dev.waitFor(/\bonline\b/, { stream: "stderr" });
  const { sessionId } = await world.admin.createSession(w.workerId, "deadline");
  const { messageId } = await world.admin.send(sessionId, "SLOW past the deadline");
  await waitForText(world, messageId);
  dev.kill("SIGINT");
  await dev.waitFor(/drain deadline \(1 s\) reached: interrupting running answers/, { stream: "stderr", timeoutMs: 15_000 });
  expect((await dev.exited).code).toBe(0);
  const m = await world.waitForMessage(messageId);
  expect(m.status).toBe("interrupted");
  expect(m.reason).toContain("drain deadline reached");
}, 90_000);

test("WORKER_SHUTDOWN_TIMEOUT out of bounds: exit 78 naming the variable, where it came from and the limit", async () => {
  const w = await world.addWorker({ approve: true });
  const dev = startDev("binary", world, { cwd: world.project(), token: w.token, env: { WORKER_SHUTDOWN_TIMEOUT: "5000" } });
  const end = await dev.exited;
  expect(end.code).toBe(78);
  expect(dev.stderr).toContain("environment: WORKER_SHUTDOWN_TIMEOUT: must be at most 3600");
});
