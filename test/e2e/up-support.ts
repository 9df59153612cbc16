// Helpers for the `up` tests: a private HOME per test (so its own backend data folder), the
// stub model behind a real OpenCode, and the CLI as child processes with no backend URL or key
// in their environment. `cleanup()` stops every process a test started, the detached backend
// included.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, startCli, type CliTarget } from "../support/cli.ts";
import { opencodeTestEnv } from "../support/opencode-env.ts";
import { start, type Running } from "../support/proc.ts";
import { startStubModel, type StubModel } from "../support/stub-model.ts";
import { tempDir } from "../support/tmp.ts";
import { processesWithEnv, terminatePids } from "../../src/util/process-group.ts";
import { freePort } from "./backend-process.ts";

export type UpOptions = {
  /** Replaces (undefined: removes) variables of the home's environment. */
  env?: Record<string, string | undefined>;
  /** Run this copy of the compiled binary instead of dist/'s. */
  program?: string;
};

export type UpHome = {
  root: string;
  env: Record<string, string>;
  dataDir: string;
  configDir: string;
  project(name: string): string;
  /** `up` kept running; its status endpoint on a free port so parallel tests never share one. */
  startUp(target: CliTarget, args: string[], cwd: string, o?: UpOptions): Promise<Running>;
  cli(target: CliTarget, args: string[], o?: { cwd?: string; input?: string }): ReturnType<typeof runCli>;
  /** The pid and URL the runtime file records for the local backend. */
  runtime(): { pid: number; url: string };
  cleanup(): Promise<void>;
};

export async function openUpHome(): Promise<{ home: UpHome; stub: StubModel }> {
  const stub = await startStubModel();
  const root = tempDir("up-");
  const homeDir = join(root, "home");
  const env: Record<string, string> = { ...opencodeTestEnv(stub.url, { root: homeDir }), NO_COLOR: "1" };
  const started: Running[] = [];
  const home: UpHome = {
    root,
    env,
    dataDir: join(env.XDG_DATA_HOME!, "opencode-orchestrator", "backend"),
    configDir: join(env.XDG_CONFIG_HOME!, "opencode-orchestrator"),
    project(name) {
      const dir = join(root, "projects", name);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    async startUp(target, args, cwd, o = {}) {
      const status = `127.0.0.1:${await freePort()}`;
      const upEnv = { ...env, OPENCODE_ORCHESTRATOR_STATUS_ADDRESS: status, ...o.env };
      const argv = ["up", "--log-level", "debug", ...args];
      const up = o.program ? start(o.program, argv, { cwd, env: upEnv }) : startCli(target, argv, { cwd, env: upEnv });
      started.push(up);
      return up;
    },
    cli(target, args, o = {}) {
      return runCli(target, args, { cwd: o.cwd ?? root, env, input: o.input, timeoutMs: 90_000 });
    },
    runtime() {
      return JSON.parse(readFileSync(join(home.dataDir, "runtime.json"), "utf8"));
    },
    async cleanup() {
      for (const r of started) if (r.child.exitCode === null && r.child.signalCode === null) r.kill("SIGKILL");
      if (existsSync(join(home.dataDir, "runtime.json"))) await runCli("binary", ["up", "--stop-backend"], { env, timeoutMs: 30_000 });
      // Whatever still carries this HOME (an OpenCode a killed up left, a backend): never orphan it.
      const leftovers = processesWithEnv("XDG_STATE_HOME", env.XDG_STATE_HOME!);
      if (leftovers.length > 0) await terminatePids(leftovers);
      await stub.stop();
    },
  };
  return { home, stub };
}
