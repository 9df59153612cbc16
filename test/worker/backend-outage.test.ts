// Issue 8 item 11: a backend outage shows at once. The backend runs as a process of its own; it is
// killed and started again on the same port, and the worker's snapshot (what `status` shows)
// and log say so within seconds, once each way.
import { afterAll, expect, test } from "bun:test";
import { connectAdmin } from "../../src/backend/admin-client.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { DEFAULTS } from "../../src/config/types.ts";
import { generateAdminKey } from "../../src/local-backend/backend.ts";
import { createLogger } from "../../src/util/log.ts";
import { startWorker } from "../../src/worker/worker.ts";
import { freePort } from "../e2e/backend-process.ts";
import { tempDir } from "../support/tmp.ts";
import { approvedWorkerOnBackend, killBackendProcesses, startBackendProcess, testWorkerConfig, until } from "./backend-process.ts";
import { scriptedAgent } from "./scripted-agent.ts";

afterAll(killBackendProcesses);

test("a killed backend shows as disconnected within seconds, logged once; back when it returns, logged once", async () => {
  const { port, adminKey, dataDir, url, backend: first, token } = await approvedWorkerOnBackend("outage", { keep: true });

  const lines: string[] = [];
  const log = createLogger({ level: "debug", format: "json", sink: (l) => lines.push(l) });
  const worker = startWorker({
    config: testWorkerConfig("outage", token, url),
    log,
    version: "test",
    startAgent: scriptedAgent().start,
  });
  const messages = (level: string, text: string) =>
    lines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === level && l.msg.includes(text));
  try {
    await until("ready", () => worker.snapshot().state === "ready", 20_000);
    expect(worker.snapshot().backendConnected).toBe(true);

    // The replacement loads while the first still serves; it opens the data once told to.
    const second = startBackendProcess(port, adminKey, dataDir, true);
    const firstGone = new Promise<void>((res) => first.child.once("exit", () => res()));
    first.child.kill("SIGKILL");
    await until("the snapshot to show the lost connection", () => !worker.snapshot().backendConnected, 5_000);
    await until("the loss to be logged", () => messages("warn", "backend connection lost").length > 0, 5_000);

    await firstGone;
    second.listen();
    await second.url;
    await until("the connection to come back", () => worker.snapshot().backendConnected, 20_000);
    await until("the return to be logged", () => messages("info", "backend connection restored").length > 0, 5_000);
    expect(messages("warn", "backend connection lost")).toHaveLength(1);
    expect(messages("info", "backend connection restored")).toHaveLength(1);
  } finally {
    await worker.stop({ cancel: true });
  }
});
