// The start-up model listing (`opencode models`, seconds of CPU, one at a time per process):
// it waits until the worker is registered — its list can only be published then, and a
// hundred workers starting must not share the CPU with OpenCode processes before they are
// online — and a stopping worker starts none of the listings still queued.
import { afterAll, expect, test } from "bun:test";
import type { AdminClient } from "../../src/backend/admin-client.ts";
import type { LocalBackend } from "../../src/local-backend/backend.ts";
import { createLogger } from "../../src/util/log.ts";
import type { ListModels } from "../../src/worker/agent-types.ts";
import { startWorker, type Worker } from "../../src/worker/worker.ts";
import type { WorkerState } from "../../src/worker/state.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { useLocalBackend } from "../support/local-backend.ts";
import { approvedWorkerOnBackend, killBackendProcesses, startBackendProcess, testWorkerConfig, until } from "./backend-process.ts";
import { scriptedAgent } from "./scripted-agent.ts";

afterAll(killBackendProcesses);
let backend: LocalBackend;
let admin: AdminClient;
useLocalBackend((b, a) => ((backend = b), (admin = a)));

test("a worker lists its models only once it is registered", async () => {
  // A worker added and approved on a first run; the backend then stops and a held-back one
  // (it loads but listens only when told) takes its port, so the worker keeps retrying.
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

test("stopping workers start none of their listings still queued", async () => {
  // Listings run one at a time: the first holds the queue until its worker's stop aborts it,
  // the other waits behind it — and its turn comes while its own worker is already stopping.
  const started: string[] = [];
  const listModels: ListModels = (o) => {
    started.push(o.directory);
    return new Promise((_, reject) => o.signal?.addEventListener("abort", () => reject(new Error("stopped")), { once: true }));
  };
  const workers = await Promise.all(
    ["first", "second"].map(async (name) => {
      const added = await admin.addWorker("listing-queue-tests", name);
      await admin.approve(added.workerId);
      const config = testWorkerConfig(name, WorkerToken.parse(added.token)!, backend.url);
      return startWorker({ config, log: createLogger({ sink: () => {} }), version: "test", startAgent: scriptedAgent().start, listModels });
    }),
  );
  await until("both workers online", () => workers.every((w) => w.status().state === "ready"));
  await until("one listing running", () => started.length === 1);
  await Promise.all(workers.map((w) => w.stop()));
  expect(started).toHaveLength(1);
}, 60_000);
