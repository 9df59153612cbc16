// The start-up model listing (`opencode models`, seconds of CPU) waits until the worker is
// registered: its list can only be published then, and a hundred workers starting must not
// share the CPU with OpenCode processes before they are online. The backend here is held
// back (it loads but listens only when told), so the worker keeps retrying its connection.
import { afterAll, expect, test } from "bun:test";
import { connectAdmin } from "../../src/backend/admin-client.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { DEFAULTS } from "../../src/config/types.ts";
import { generateAdminKey } from "../../src/local-backend/backend.ts";
import { createLogger } from "../../src/util/log.ts";
import { startWorker, type Worker } from "../../src/worker/worker.ts";
import type { WorkerState } from "../../src/worker/state.ts";
import { freePort } from "../e2e/backend-process.ts";
import { tempDir } from "../support/tmp.ts";
import { approvedWorkerOnBackend, killBackendProcesses, startBackendProcess, testWorkerConfig, until } from "./backend-process.ts";
import { scriptedAgent } from "./scripted-agent.ts";

afterAll(killBackendProcesses);

test("a worker lists its models only once it is registered", async () => {
  // A worker added and approved on a first run; the backend then stops.
  const { port, adminKey, dataDir, token } = await approvedWorkerOnBackend("listing", { keep: false });
  const held = startBackendProcess(port, adminKey, dataDir, true);

  const lines: string[] = [];
  const log = createLogger({ level: "debug", format: "json", sink: (l) => lines.push(l) });
  const listedIn: WorkerState[] = [];
  let worker: Worker | undefined;
  worker = startWorker({
    config: testWorkerConfig("listing", token, `http://127.0.0.1:${port}`),
    log,
    version: "test",
    startAgent: scriptedAgent().start,
    listModels: async () => {
      listedIn.push(worker!.status().state);
      return [{ providerId: "scripted", modelId: "m", name: "Scripted" }];
    },
  });
  try {
    // Two failed connection attempts: long past the moment a listing started at boot would have begun.
    await until("two reconnect attempts", () => lines.filter((l) => l.includes("Attempting reconnect")).length >= 2);
    expect(worker.status().state).toBe("registering");
    expect(listedIn).toEqual([]);

    held.listen();
    await until("the worker to go online", () => worker!.status().state === "ready");
    await until("the models to be published", () => lines.some((l) => l.includes('"msg":"models published"')));
    expect(listedIn).toHaveLength(1);
    expect(listedIn[0]).not.toBe("registering");
    expect(listedIn[0]).not.toBe("starting");
  } finally {
    await worker.stop({ cancel: true });
    held.child.kill("SIGTERM");
  }
}, 60_000);
