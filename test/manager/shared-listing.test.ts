// The manager hands its workers one shared model listing (src/agent/models-share.ts) through
// the real wiring: workers against the embedded backend, `opencode models` played by a
// stand-in script that logs each run, the published lists read back as a person sees them.
import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { listAgentModels } from "../../src/agent/models.ts";
import type { AdminClient } from "../../src/backend/admin-client.ts";
import { SANDBOX_DEFAULTS } from "../../src/config/sandbox-settings.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { DEFAULTS, type OrchestratorConfig, type WorkerConfig } from "../../src/config/types.ts";
import type { LocalBackend } from "../../src/local-backend/backend.ts";
import { useLocalBackend } from "../support/local-backend.ts";
import { createManager } from "../../src/manager/manager.ts";
import { createLogger } from "../../src/util/log.ts";
import type { StartAgent } from "../../src/worker/agent-types.ts";
import { createWaiters } from "../support/waiters.ts";
import { tempDir } from "../support/tmp.ts";

let backend: LocalBackend;
let admin: AdminClient;
useLocalBackend((b, a) => ((backend = b), (admin = a)));

const noAgent: StartAgent = async () => {
  throw new Error("no OpenCode server in this test");
};

test("four workers, one with a project opencode.json: two listings, each worker publishes the list meant for it", async () => {
  const root = tempDir("shared-listing-");
  const runsLog = join(root, "runs.log");
  const bin = join(root, "opencode");
  writeFileSync(bin, `#!/bin/sh\necho "$(basename "$PWD")" >> "${runsLog}"\necho "cwd/$(basename "$PWD")"\n`, { mode: 0o755 });
  const names = ["sl-a", "sl-b", "sl-c", "sl-d"];
  const workers: WorkerConfig[] = [];
  for (const name of names) {
    const r = await admin.addWorker("shared-listing", name);
    await admin.approve(r.workerId);
    const dir = join(root, name);
    mkdirSync(dir);
    workers.push({
      name,
      token: WorkerToken.parse(r.token)!,
      workingDirectory: dir,
      convexUrl: backend.url,
      maxConcurrentSessions: 1,
      opencodePath: bin,
      agentIdleTimeoutMs: DEFAULTS.agentIdleTimeoutMs,
      turnInactivityTimeoutMs: DEFAULTS.turnInactivityTimeoutMs,
      heartbeatIntervalMs: 5_000,
      // The stand-in writes its log under the test's /tmp, which a sandbox would hide (models-key tests cover sandboxes).
      sandbox: { ...SANDBOX_DEFAULTS, mode: "off" },
      origin: "workers[?]",
    });
  }
  writeFileSync(join(root, "sl-c", "opencode.json"), '{"username":"c"}');
  const config: OrchestratorConfig = { source: { kind: "file", path: join(root, "workers.json") }, workers, shutdownTimeoutMs: 5_000, statusAddress: null, warnings: [], rejected: [] };

  const waiters = createWaiters();
  let published = 0;
  const log = createLogger({ level: "debug", format: "json", sink: (l) => void (l.includes('"models published"') && (published++, waiters.notify())) });
  const m = createManager({ config, log, version: "test", startAgent: noAgent, listModels: listAgentModels });
  try {
    m.start();
    await waiters.until(() => (published >= names.length ? true : undefined), 30_000, () => new Error(`${published} of ${names.length} workers published their models`));
    const runs = readFileSync(runsLog, "utf8").trim().split("\n");
    // One run for the three plain folders (whichever asked first), one for the folder with its own config.
    expect(runs.length).toBe(2);
    expect(runs).toContain("sl-c");
    const plainRun = runs.find((r) => r !== "sl-c")!;
    const listed = Object.fromEntries((await admin.list()).filter((w) => names.includes(w.name)).map((w) => [w.name, w.models.map((x) => x.modelId)]));
    expect(listed).toEqual({ "sl-a": [plainRun], "sl-b": [plainRun], "sl-c": ["sl-c"], "sl-d": [plainRun] });
    expect(["sl-a", "sl-b", "sl-d"]).toContain(plainRun);
  } finally {
    await m.stop("test over");
  }
});
