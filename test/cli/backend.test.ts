// `backend` through the real CLI (compiled binary and Node bundle): the two stdout lines,
// the real convex/ functions served to the real clients, clean stop on SIGTERM, and the
// errors and warnings a user sees.
import { afterEach, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { ConvexError } from "convex/values";
import { adminApi, workerApi, type SelfView } from "../../src/backend/api.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CLI_TARGETS, NODE, NODE_BUNDLE, runCli, startCli, type CliTarget } from "../support/cli.ts";
import { run } from "../support/proc.ts";
import { tempDir } from "../support/tmp.ts";
import type { Running } from "../support/proc.ts";
import { rejection } from "../support/rejection.ts";

const running: Running[] = [];
const closers: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
  for (const r of running.splice(0)) r.kill("SIGKILL");
});

async function startBackend(target: CliTarget, args: string[] = [], env: Record<string, string | undefined> = {}) {
  const proc = startCli(target, ["backend", ...(args.includes("--port") ? args : ["--port", "0", ...args])], { env });
  running.push(proc);
  const [, url] = await proc.waitFor(/^CONVEX_URL=(\S+)$/m, { stream: "stdout" });
  const [, adminKey] = await proc.waitFor(/^CONVEX_ADMIN_KEY=(\S+)$/m, { stream: "stdout" });
  return { proc, url: url!, adminKey: adminKey! };
}

function admin(url: string, key: string): ConvexHttpClient {
  const c = new ConvexHttpClient(url, { logger: false });
  (c as unknown as { setAdminAuth(k: string): void }).setAdminAuth(key);
  return c;
}

function noStackTrace(text: string): void {
  expect(text).not.toMatch(/^\s+at .+:\d+/m);
}

for (const target of CLI_TARGETS) {
  describe(`backend (${target})`, () => {
    test("prints two lines, serves convex/ to the real clients, stops on SIGTERM with exit 0", async () => {
      const { proc, url, adminKey } = await startBackend(target);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(adminKey.length).toBeGreaterThanOrEqual(32);

      const added = await admin(url, adminKey).action(adminApi.addWorker, { machineName: "laptop" });
      const token = WorkerToken.parse(added.token)!;
      const auth = { machineId: token.machineId, workerId: token.workerId, secret: token.revealSecret() };
      const ws = new ConvexClient(url, { logger: false });
      closers.push(() => ws.close());
      let self: SelfView | undefined;
      ws.onUpdate(workerApi.self, { auth }, (v) => (self = v));
      const deadline = Date.now() + 30_000;
      while (self?.approval !== "pending" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(self?.approval).toBe("pending");
      await admin(url, adminKey).mutation(adminApi.approve, { worker: token.workerId });
      while (self?.approval !== "approved" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(self?.approval).toBe("approved");

      // Person-side functions are internal: refused without the key, a clear error with a wrong one.
      const anon = new ConvexHttpClient(url, { logger: false });
      expect((await rejection(anon.query(adminApi.list, {}))).message).toContain("Could not find public function");
      expect((await rejection(admin(url, "wrong-key").query(adminApi.list, {}))).message).toContain("BadAdminKey");
      // A worker-facing failure carries ConvexError data.
      const bad = await rejection(anon.query(workerApi.self, { auth: { ...auth, secret: "nope" } }));
      expect(bad).toBeInstanceOf(ConvexError);

      await ws.close();
      proc.kill("SIGTERM");
      const exit = await proc.exited;
      expect(exit.code).toBe(0);
      expect(proc.stdout.trimEnd().split("\n")).toEqual([`CONVEX_URL=${url}`, `CONVEX_ADMIN_KEY=${adminKey}`]);
      expect(proc.stderr).toContain("stopped");
      expect(proc.stderr).not.toContain(adminKey);
      noStackTrace(proc.stderr);
    });

    test("a connected client reconnects and resubscribes when a new backend takes the same port", async () => {
      const first = await startBackend(target, ["--admin-key", "same-key-0123456789", "--in-memory"]);
      const port = new URL(first.url).port;
      await admin(first.url, "same-key-0123456789").action(adminApi.addWorker, { machineName: "old" });
      const ws = new ConvexClient(first.url, { logger: false });
      (ws as unknown as { setAdminAuth(k: string): void }).setAdminAuth("same-key-0123456789");
      closers.push(() => ws.close());
      let machines: string[] | undefined;
      ws.onUpdate(adminApi.list, {}, (v) => (machines = v.map((w) => w.machineName)));
      const waitFor = async (want: string) => {
        const deadline = Date.now() + 30_000;
        while (JSON.stringify(machines) !== want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(JSON.stringify(machines)).toBe(want);
      };
      await waitFor('["old"]');
      first.proc.kill("SIGTERM");
      expect((await first.proc.exited).code).toBe(0);
      const second = await startBackend(target, ["--admin-key", "same-key-0123456789", "--in-memory", "--port", port]);
      expect(second.url).toBe(first.url);
      // In-memory data did not survive; the subscription (admin auth included) did.
      await waitFor("[]");
      await admin(second.url, "same-key-0123456789").action(adminApi.addWorker, { machineName: "new" });
      await waitFor('["new"]');
    });

    test("takes the admin key from CONVEX_ADMIN_KEY, and --admin-key wins over it", async () => {
      const fromEnv = await startBackend(target, ["--in-memory"], { CONVEX_ADMIN_KEY: "env-key-0123456789" });
      expect(fromEnv.adminKey).toBe("env-key-0123456789");
      expect(await admin(fromEnv.url, "env-key-0123456789").query(adminApi.list, {})).toEqual([]);
      const fromFlag = await startBackend(target, ["--admin-key", "flag-key-0123456789", "--in-memory"], { CONVEX_ADMIN_KEY: "env-key-0123456789" });
      expect(fromFlag.adminKey).toBe("flag-key-0123456789");
    });

    test("a port in use is a clear error naming the port and --port, exit 1", async () => {
      const blocker: Server = createServer();
      await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
      closers.push(() => new Promise((r) => blocker.close(r)));
      const port = (blocker.address() as { port: number }).port;
      const r = await runCli(target, ["backend", "--port", String(port)]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(`port ${port}`);
      expect(r.stderr).toContain("--port");
      noStackTrace(r.stderr);
    });

    test("a non-loopback --host warns on stderr", async () => {
      const { proc, url } = await startBackend(target, ["--host", "0.0.0.0"]);
      await proc.waitFor(/warning: listening on 0\.0\.0\.0/, { stream: "stderr" });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await new ConvexHttpClient(url, { logger: false }).query(adminApi.list as never, {}).catch((e: Error) => e.message)).toContain(
        "Could not find public function",
      );
      proc.kill("SIGINT");
      expect((await proc.exited).code).toBe(0);
    });

    test("the default host is loopback and gives no warning", async () => {
      const { proc } = await startBackend(target);
      proc.kill("SIGTERM");
      await proc.exited;
      expect(proc.stderr).not.toContain("warning");
    });

    test("a bad --port is a usage error", async () => {
      const r = await runCli(target, ["backend", "--port", "http"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("--port");
      noStackTrace(r.stderr);
    });
  });
}

test("a Node without node:sqlite: one clear error naming the fix, exit 1, nothing written in the data folder", async () => {
  // --no-experimental-sqlite takes node:sqlite away from any Node that has it, as Node < 22.5 lacks it.
  const data = join(tempDir("no-sqlite-"), "backend");
  const r = await run(NODE, ["--no-experimental-sqlite", NODE_BUNDLE, "backend", "--data", data, "--port", "0"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`the embedded backend cannot keep its data in ${data}: this Node`);
  expect(r.stderr).toContain("has no node:sqlite");
  expect(r.stderr).toContain("Use the standalone executable");
  expect(r.stderr).not.toContain("damaged");
  expect(r.stderr).not.toContain("    at ");
  expect(existsSync(data)).toBe(false);
});
