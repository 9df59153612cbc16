// A machine's worth of secrets for sandbox tests: a workers.json, a token file, a dev .env in
// the worker's folder, the local backend's admin key in our data folder, another worker's
// folder — each holding a distinct `secret_…` the agent must never print.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadDevConfig } from "../../src/config/dev-config.ts";
import { readConfigEnv } from "../../src/config/env.ts";
import { loadWorkersConfig } from "../../src/config/workers-file.ts";
import { sandboxRequest, type SandboxRequest, type SandboxSettings } from "../../src/agent/sandbox/index.ts";
import { AGENT_MARKER_VAR } from "../../src/agent/index.ts";
import { tempDir } from "./tmp.ts";

export type SecretWorld = {
  directory: string;
  otherDirectory: string;
  files: { workersJson: string; tokenFile: string; envFile: string; adminKey: string; otherNotes: string };
  /** Every secret value planted. */
  secrets: string[];
  request(settings?: Partial<SandboxSettings>): Promise<SandboxRequest>;
};

const token = (w: string, s: string) => `machine_m1:worker_${w}:secret_${s}`;

/**
 * `env` must carry the XDG folders the agent will use (the orchestrator's folders are derived
 * from them). `root` defaults to this run's temp folder, which is under /tmp — hidden wholesale
 * by the sandbox's private /tmp; pass a root elsewhere to exercise the hiding of each path.
 */
export function secretWorld(env: NodeJS.ProcessEnv, root = tempDir("sandbox-world-")): SecretWorld {
  const directory = join(root, "project");
  const otherDirectory = join(root, "other-project");
  mkdirSync(join(directory, "src"), { recursive: true });
  mkdirSync(otherDirectory, { recursive: true });
  execFileSync("git", ["init", "-q", directory]);
  writeFileSync(join(directory, "src/main.txt"), "hello\n");
  const configDir = join(env.XDG_CONFIG_HOME!, "opencode-orchestrator");
  const dataDir = join(env.XDG_DATA_HOME!, "opencode-orchestrator", "backend");
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const files = {
    workersJson: join(configDir, "workers.json"),
    tokenFile: join(root, "tokens", "w1.token"),
    envFile: join(directory, ".env"),
    adminKey: join(dataDir, "admin-key"),
    otherNotes: join(otherDirectory, "notes.txt"),
  };
  mkdirSync(join(root, "tokens"), { recursive: true, mode: 0o700 });
  writeFileSync(files.tokenFile, token("w1", "TOKENFILE1") + "\n", { mode: 0o600 });
  writeFileSync(
    files.workersJson,
    JSON.stringify({
      workers: [
        { name: "w1", token_file: files.tokenFile, working_directory: directory, convex_url: "http://127.0.0.1:9" },
        { name: "w2", token: token("w2", "WORKERSJSON2"), working_directory: otherDirectory, convex_url: "http://127.0.0.1:9" },
      ],
    }),
    { mode: 0o600 },
  );
  writeFileSync(files.envFile, `WORKER_TOKEN=${token("w1", "DOTENV1")}\nCONVEX_URL=http://127.0.0.1:9\n`, { mode: 0o600 });
  writeFileSync(files.adminKey, "local|secret_ADMINKEY\n", { mode: 0o600 });
  writeFileSync(files.otherNotes, "secret_OTHERWORKER\n");
  const secrets = ["secret_TOKENFILE1", "secret_WORKERSJSON2", "secret_DOTENV1", "secret_ADMINKEY", "secret_OTHERWORKER"];

  return {
    directory,
    otherDirectory,
    files,
    secrets,
    async request(settings = {}) {
      // The same worker seen by `orchestrate` (workers.json) and by `dev` (.env in its folder).
      const fileConfig = await loadWorkersConfig(files.workersJson, { createTemplate: false, env: readConfigEnv(env) });
      const devConfig = await loadDevConfig({ cwd: directory, env: { ...env, WORKER_TOKEN: undefined }, interactive: false });
      const w1 = fileConfig.workers.find((w) => w.name === "w1")!;
      const fromFile = sandboxRequest({ ...w1, sandbox: { mode: "on", network: true, hide: [], writable: [], ...settings } }, fileConfig, env);
      const fromDev = sandboxRequest(devConfig.workers[0]!, devConfig, env);
      return { ...fromFile, secrets: [...new Set([...fromFile.secrets, ...fromDev.secrets])] };
    },
  };
}

/** Processes carrying one agent server's marker (its whole tree, wherever it moved), from /proc. */
export function markedWith(marker: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, "utf8").split("\0").includes(`${AGENT_MARKER_VAR}=${marker}`)) out.push(Number(e));
    } catch {
      // gone, or not ours
    }
  }
  return out;
}
