// One end-to-end world for tests: the embedded backend (in-process, the real convex/
// functions), the stub model, an isolated OpenCode environment, and admin helpers. CLI
// processes started with `world.env` talk only to these, on 127.0.0.1.
import { afterAll, afterEach, beforeAll } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connectAdmin, type AdminClient } from "../../src/backend/admin-client.ts";
import type { ChatMessageView } from "../../src/backend/api.ts";
import { startLocalBackend, type LocalBackend } from "../../src/local-backend/backend.ts";
import { processesWithEnv, terminatePids } from "../../src/util/process-group.ts";
import { modules, schema } from "../../src/local-backend/modules.ts";
import { opencodeTestEnv } from "./opencode-env.ts";
import { startStubModel, type StubModel, type StubModelOptions } from "./stub-model.ts";
import { tempDir } from "./tmp.ts";

export type World = {
  backend: LocalBackend;
  stub: StubModel;
  admin: AdminClient;
  /** Env for CLI child processes: private HOME/XDG, OpenCode → stub, CONVEX_URL. No admin key. */
  env: Record<string, string>;
  /** A new worker (pending unless `approve`); returns its token and ids. */
  addWorker(o?: { machine?: string; name?: string; approve?: boolean }): Promise<{ token: string; workerId: string; name: string }>;
  /** A fresh project folder. */
  project(name?: string): string;
  /** Polls a message until `pred` holds (default: a final status). */
  waitForMessage(messageId: string, pred?: (m: ChatMessageView) => boolean, timeoutMs?: number): Promise<ChatMessageView>;
  stop(): Promise<void>;
};

const FINAL = ["completed", "failed", "cancelled", "interrupted"];

export async function startWorld(o: { stub?: StubModelOptions; sweepIntervalMs?: number } = {}): Promise<World> {
  const root = tempDir("world-");
  const stub = await startStubModel(o.stub);
  const backend = await startLocalBackend({ schema, modules, sweepIntervalMs: o.sweepIntervalMs ?? 1_000 });
  const admin = connectAdmin(backend.url, backend.adminKey);
  const env: Record<string, string> = { ...opencodeTestEnv(stub.url, { root: join(root, "home") }), CONVEX_URL: backend.url, NO_COLOR: "1" };
  let n = 0;
  return {
    backend,
    stub,
    admin,
    env,
    async addWorker(w = {}) {
      const r = await admin.addWorker(w.machine ?? "test-machine", w.name);
      if (w.approve) await admin.approve(r.workerId);
      return { token: r.token, workerId: r.workerId, name: r.name };
    },
    project(name) {
      const dir = join(root, name ?? `project-${++n}`);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    async waitForMessage(messageId, pred = (m) => m.status !== null && FINAL.includes(m.status), timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = await admin.message(messageId);
        if (m && pred(m)) return m;
        if (Date.now() > deadline) throw new Error(`message ${messageId} did not reach the expected state: ${JSON.stringify(m)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      // Safety net: whatever a failed or interrupted test left running in this world (an
      // OpenCode server, a CLI) carries the world's private XDG_STATE_HOME; never orphan it.
      let leftovers = processesWithEnv("XDG_STATE_HOME", env.XDG_STATE_HOME!);
      // What a test's cleanup just SIGKILLed (an orchestrate, and with it its sandboxed OpenCode)
      // may still be exiting: only what is still there after a moment was left running.
      for (const deadline = Date.now() + 2_000; leftovers.length > 0 && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 50));
        leftovers = processesWithEnv("XDG_STATE_HOME", env.XDG_STATE_HOME!);
      }
      if (leftovers.length > 0) {
        const named = leftovers.map((pid) => `${pid} (${commandOf(pid)})`);
        process.stderr.write(`world.stop(): killing ${leftovers.length} process(es) a test left running: ${named.join(", ")}\n`);
        await terminatePids(leftovers);
      }
      await admin.close();
      await backend.stop();
      await stub.stop();
    },
  };
}

/**
 * One world for a test file: started before its tests; `cleanup` (what the file's tests start:
 * devs, orchestrators) runs after each test and before the world stops after the file. The
 * returned object stands for the world.
 */
export function useSharedWorld(cleanup: () => Promise<void>, opts?: Parameters<typeof startWorld>[0]): World {
  let world: World | undefined;
  beforeAll(async () => {
    world = await startWorld(opts);
  });
  afterEach(cleanup);
  afterAll(async () => {
    await cleanup();
    await world?.stop();
  });
  return new Proxy({} as World, {
    get(_target, key) {
      if (!world) throw new Error("the test world is not started yet (use it inside a test)");
      return world[key as keyof World];
    },
  });
}

/** A process's command line, shortened, for saying what was left running. */
function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim().slice(0, 120);
  } catch {
    return "gone";
  }
}
