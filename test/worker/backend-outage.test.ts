// Issue 8 item 11: a backend outage shows at once. The backend runs as a process of its own; it is
// killed and started again on the same port, and the worker's snapshot (what `status` shows)
// and log say so within seconds, once each way.
import { afterAll, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { connectAdmin } from "../../src/backend/admin-client.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { DEFAULTS } from "../../src/config/types.ts";
import { generateAdminKey } from "../../src/local-backend/backend.ts";
import { createLogger } from "../../src/util/log.ts";
import { startWorker } from "../../src/worker/worker.ts";
import { tempDir } from "../support/tmp.ts";
import { scriptedAgent } from "./scripted-agent.ts";

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((res) => srv.listen(0, "127.0.0.1", res));
  const port = (srv.address() as { port: number }).port;
  await new Promise((res) => srv.close(res));
  return port;
}

function startBackendProcess(port: number, adminKey: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, "fixtures/backend-process.ts"), String(port), adminKey], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((res, rej) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) res({ url: out.split("\n")[0]!, child });
    });
    child.once("exit", (code) => rej(new Error(`backend process exited early (${code})`)));
  });
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a killed backend shows as disconnected within seconds, logged once; back when it returns, logged once", async () => {
  const port = await freePort();
  const adminKey = generateAdminKey();
  const first = await startBackendProcess(port, adminKey);
  const admin = connectAdmin(first.url, adminKey);
  const added = await admin.addWorker("outage-tests", "outage");
  await admin.approve(added.workerId);
  await admin.close();

  const lines: string[] = [];
  const log = createLogger({ level: "debug", format: "json", sink: (l) => lines.push(l) });
  const worker = startWorker({
    config: {
      name: "outage",
      token: WorkerToken.parse(added.token)!,
      workingDirectory: tempDir("w-"),
      convexUrl: first.url,
      maxConcurrentSessions: 1,
      opencodePath: null,
      agentIdleTimeoutMs: DEFAULTS.agentIdleTimeoutMs,
      turnInactivityTimeoutMs: DEFAULTS.turnInactivityTimeoutMs,
      heartbeatIntervalMs: 5_000,
      origin: "workers[0]",
    },
    log,
    version: "test",
    startAgent: scriptedAgent().start,
  });
  const messages = (level: string, text: string) =>
    lines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === level && l.msg.includes(text));
  try {
    await until("ready", () => worker.snapshot().state === "ready", 20_000);
    expect(worker.snapshot().backendConnected).toBe(true);

    first.child.kill("SIGKILL");
    await until("the snapshot to show the lost connection", () => !worker.snapshot().backendConnected, 5_000);
    await until("the loss to be logged", () => messages("warn", "backend connection lost").length > 0, 5_000);

    const second = await startBackendProcess(port, adminKey);
    await until("the connection to come back", () => worker.snapshot().backendConnected, 20_000);
    await until("the return to be logged", () => messages("info", "backend connection restored").length > 0, 5_000);
    expect(messages("warn", "backend connection lost")).toHaveLength(1);
    expect(messages("info", "backend connection restored")).toHaveLength(1);
  } finally {
    await worker.stop({ cancel: true });
  }
});
