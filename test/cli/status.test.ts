// `status` through the real CLI (compiled binary and Node bundle): the table and the JSON of a
// status endpoint, where it looks (--address > env > workers.json > default), and a clear exit 1
// when nothing answers. A running orchestrator is covered by test/e2e/orchestrate-start.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { startStatusServer } from "../../src/manager/status-server.ts";
import type { StatusDoc, WorkerStatusDoc } from "../../src/manager/status.ts";
import { createLogger } from "../../src/util/log.ts";
import { CLI_TARGETS, runCli } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const now = Date.now();
const base: Omit<WorkerStatusDoc, "name" | "state"> = {
  machineId: "m1",
  workerId: "w1",
  since: new Date(now - 90_000).toISOString(),
  approval: "approved",
  backendConnected: true,
  lastHeartbeatAgeSeconds: 4,
  turnsRunning: 0,
  turnsQueued: 0,
  turns: { completed: 3, failed: 1, cancelled: 0, interrupted: 2 },
  relayBatches: 9,
  heartbeatsFailed: 0,
  restarts: 0,
  nextRestartAt: null,
  lastError: null,
  errorClass: null,
  opencodePid: 4242,
  workingDirectory: "/srv/api",
  convexUrl: "http://127.0.0.1:3210",
};
const doc: StatusDoc = {
  version: "9.9.9",
  pid: 777,
  config: "/etc/oco/workers.json",
  startedAt: new Date(now - 3_600_000).toISOString(),
  uptimeSeconds: 3600,
  shuttingDown: false,
  lastReload: { at: new Date(now - 60_000).toISOString(), ok: false, added: [], removed: [], changed: [], unchanged: [], errors: ["workers[1].working_dir: unknown key"] },
  reloads: { ok: 1, failed: 1 },
  workers: [
    {
      ...base,
      name: "api",
      state: "busy",
      turnsRunning: 1,
      usage: {
        total: { input: 1_000, output: 400, reasoning: 100, cacheRead: 0, cacheWrite: 0, cost: 1.5 },
        today: { input: 10, output: 20, reasoning: 0, cacheRead: 0, cacheWrite: 0, cost: 0.05, day: new Date(now).toISOString().slice(0, 10) },
        lastTurn: null,
      },
    },
    {
      ...base,
      name: "web",
      state: "errored",
      backendConnected: false,
      lastHeartbeatAgeSeconds: null,
      restarts: 3,
      nextRestartAt: new Date(now + 600_000).toISOString(),
      lastError: "could not register: backend down",
      opencodePid: null,
    },
    { ...base, name: "new", workerId: "w-new", state: "awaiting_approval", approval: "pending", opencodePid: null },
  ],
};

let server: { address: string; stop(): Promise<void> };
let notOurs: Server;
let notOursAddress: string;
beforeAll(async () => {
  server = await startStatusServer({ address: "127.0.0.1:0", status: () => doc, log: createLogger({ sink: () => {} }) });
  notOurs = createServer((_req, res) => res.writeHead(404).end("nope"));
  await new Promise<void>((r) => notOurs.listen(0, "127.0.0.1", r));
  notOursAddress = `127.0.0.1:${(notOurs.address() as { port: number }).port}`;
});
afterAll(async () => {
  await server?.stop();
  notOurs?.close();
});

/** A loopback port where nothing listens (bound, read, released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function configWith(statusAddress: string): string {
  const file = join(tempDir("status-cfg-"), "workers.json");
  // Only status_address matters to `status`; the rest need not be valid.
  writeFileSync(file, `// comments allowed\n{ "status_address": "${statusAddress}", "workers": [], }\n`, { mode: 0o600 });
  return file;
}

for (const target of CLI_TARGETS) {
  describe(`status (${target})`, () => {
    test("prints a table: header line, last reload, one row per worker", async () => {
      const r = await runCli(target, ["status", "--address", server.address]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      const lines = r.stdout.trimEnd().split("\n");
      expect(lines[0]).toBe("orchestrator 9.9.9 (pid 777), up 1h, config /etc/oco/workers.json");
      expect(lines[1]).toMatch(/^last reload \S+: rejected — workers\[1\]\.working_dir: unknown key$/);
      expect(lines[2]).toMatch(/^WORKER\s+STATE\s+FOR\s+BACKEND\s+HEARTBEAT\s+RUNNING\s+QUEUED\s+DONE\/FAIL\/CANC\/INT\s+TOKENS\s+COST TODAY\/ALL\s+RESTARTS\s+OPENCODE\s+SANDBOX\s+DETAIL$/);
      // Usage is shown where the document has it (an older orchestrator's has not: "-").
      expect(lines[3]).toMatch(/^api\s+busy\s+2m\s+yes\s+4s ago\s+1\s+0\s+3\/1\/0\/2\s+1\.5k\s+\$0\.0500\/\$1\.50\s+0\s+4242\s+-$/);
      expect(lines[4]).toMatch(/^web\s+errored\s+2m\s+no\s+never\s+0\s+0\s+3\/1\/0\/2\s+-\s+-\s+3 \(next in (9|10)m\)\s+-\s+-\s+could not register: backend down$/);
      expect(lines[5]).toMatch(/^new\s+awaiting_approval\s+.*\sapprove it: opencode-orchestrator admin approve w-new$/);
      expect(lines.length).toBe(6);
    });

    test("--json prints the document as served", async () => {
      const r = await runCli(target, ["status", "--json", "--address", server.address]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(doc);
    });

    test("the address comes from workers.json when no flag or env names one; the env wins over the file", async () => {
      const cfg = configWith(server.address);
      const fromFile = await runCli(target, ["status", "--json"], { env: { OPENCODE_ORCHESTRATOR_CONFIG: cfg } });
      expect(fromFile.code).toBe(0);
      expect(JSON.parse(fromFile.stdout).pid).toBe(777);
      const envWins = await runCli(target, ["status", "--json"], {
        env: { OPENCODE_ORCHESTRATOR_CONFIG: configWith(`127.0.0.1:${await closedPort()}`), OPENCODE_ORCHESTRATOR_STATUS_ADDRESS: server.address },
      });
      expect(envWins.code).toBe(0);
      // A file broken by an edit (which orchestrate rejects, running on) still tells where to look.
      const broken = join(tempDir("status-cfg-"), "workers.json");
      writeFileSync(broken, `{ "status_address": "${server.address}", "workers": [ { "name": "x",, } ] }\n`, { mode: 0o600 });
      const fromBroken = await runCli(target, ["status", "--json"], { env: { OPENCODE_ORCHESTRATOR_CONFIG: broken } });
      expect(fromBroken.code).toBe(0);
    });

    test("nothing listening: exit 1, what was tried and what to do, nothing on stdout", async () => {
      const port = await closedPort();
      for (const extra of [[], ["--json"]]) {
        const r = await runCli(target, ["status", ...extra, "--address", `127.0.0.1:${port}`]);
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe(
          `error: no orchestrator answered at http://127.0.0.1:${port}/status (connection refused: nothing listens there)\n` +
            "Is `opencode-orchestrator orchestrate` running? Pass --address host:port if it uses another status_address.\n",
        );
      }
    });

    test("something else answering is not taken for an orchestrator", async () => {
      const r = await runCli(target, ["status", "--address", notOursAddress]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`no orchestrator answered at http://${notOursAddress}/status (HTTP 404)`);
    });

    test('status_address "off" in workers.json: exit 1 saying so', async () => {
      const cfg = configWith("off");
      const r = await runCli(target, ["status"], { env: { OPENCODE_ORCHESTRATOR_CONFIG: cfg } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error: the status endpoint is off (status_address in ${cfg})`);
    });
  });
}
