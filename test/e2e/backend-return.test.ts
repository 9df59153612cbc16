// A worker notices the backend is back however it runs: the binary and the Node bundle. Node's
// built-in WebSocket reported a refused reconnect with `error` only, and the convex client
// waits for `close` to try again, so under Node a worker sat ~60 s after the backend returned.
import { expect, test } from "bun:test";
import { CLI_TARGETS } from "../support/cli.ts";
import { startDev, useWorld } from "./dev-support.ts";
import { waitUntil } from "./orchestrate-support.ts";

const world = useWorld();

for (const target of CLI_TARGETS) {
  test(`dev retries a refused connection and is back as soon as the backend listens again (${target})`, async () => {
    const worker = await world.addWorker({ approve: true });
    const dev = startDev(target, world, { cwd: world.project(), token: worker.token, env: { OPENCODE_ORCHESTRATOR_LOG_LEVEL: "debug" } });
    await dev.waitFor(/\bonline\b/, { stream: "stderr", timeoutMs: 30_000 });
    await world.backend.stopNetwork();
    try {
      await dev.waitFor(/backend connection lost/, { stream: "stderr", timeoutMs: 30_000 });
      // Two reconnect attempts scheduled: the first one was refused and the client saw it close.
      const attempts = () => dev.stderr.split("Attempting reconnect").length - 1;
      const before = attempts();
      await waitUntil(() => attempts() >= before + 2, "a second reconnect attempt", 30_000);
    } finally {
      await world.backend.startNetwork();
    }
    await dev.waitFor(/backend connection restored/, { stream: "stderr", timeoutMs: 30_000 });
    dev.kill("SIGTERM");
    expect((await dev.exited).code).toBe(0);
  }, 120_000);
}
