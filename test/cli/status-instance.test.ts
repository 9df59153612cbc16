// `status` names the orchestrator it reached (issue 8, item 20): when the status address of
// workers.json is served by another instance (one with another config took it first), status
// says so instead of passing that one's workers off as this config's. What it prints of the
// document is foreign text, so control characters in it are made visible (item 9).
import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startStatusServer } from "../../src/manager/status-server.ts";
import type { StatusDoc } from "../../src/manager/status.ts";
import { createLogger } from "../../src/util/log.ts";
import { runCli } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const servers: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

function statusDoc(config: string, workerName: string): StatusDoc {
  const now = new Date().toISOString();
  return {
    version: "9.9.9",
    pid: 4321,
    config,
    startedAt: now,
    uptimeSeconds: 60,
    shuttingDown: false,
    lastReload: null,
    reloads: { ok: 0, failed: 0 },
    workers: [
      {
        name: workerName,
        machineId: "m",
        workerId: "w",
        state: "ready",
        since: now,
        approval: "approved",
        backendConnected: true,
        lastHeartbeatAgeSeconds: 1,
        turnsRunning: 0,
        turnsQueued: 0,
        turns: { completed: 0, failed: 0, cancelled: 0, interrupted: 0 },
        relayBatches: 0,
        heartbeatsFailed: 0,
        restarts: 0,
        nextRestartAt: null,
        lastError: "boom\u001b[2J\u0000",
        errorClass: null,
        opencodePid: null,
        workingDirectory: "/srv",
        convexUrl: "http://127.0.0.1:3210",
      },
    ],
  };
}

async function serve(doc: StatusDoc): Promise<string> {
  const s = await startStatusServer({ address: "127.0.0.1:0", status: () => doc, log: createLogger({ sink: () => {} }) });
  servers.push(s);
  return s.address;
}

function configAt(address: string): string {
  const file = join(tempDir("status-instance-"), "workers.json");
  writeFileSync(file, `{ "status_address": "${address}", "workers": [] }\n`, { mode: 0o600 });
  return file;
}

test("the status address of workers.json answered by an orchestrator of another config: a warning naming both configs", async () => {
  const address = await serve(statusDoc("/home/someone/other/workers.json", "their\u001b]0;title\u0007api"));
  const mine = configAt(address);
  const r = await runCli("binary", ["status"], { env: { OPENCODE_ORCHESTRATOR_CONFIG: mine } });
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`warning: the orchestrator at ${address} runs /home/someone/other/workers.json, not ${mine}.`);
  expect(r.stdout).toContain("their\\x1b]0;title\\x07api");
  expect(r.stdout).toContain("boom\\x1b[2J\\x00");
  expect(r.stdout).not.toMatch(/[\u0000\u0007\u001b]/);
});

test("the orchestrator of this very config: no warning", async () => {
  const dir = tempDir("status-instance-");
  const mine = join(dir, "workers.json");
  const address = await serve(statusDoc(mine, "api"));
  writeFileSync(mine, `{ "status_address": "${address}", "workers": [] }\n`, { mode: 0o600 });
  const r = await runCli("binary", ["status"], { env: { OPENCODE_ORCHESTRATOR_CONFIG: mine, NO_COLOR: "1" } });
  expect(r.code).toBe(0);
  expect(r.stderr).toBe("");
});
