// The one place OpenCode's command line passes through the sandbox: given what would be
// spawned, return what to spawn instead (or refuse).
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { findOnPath } from "../../util/which.ts";
import { detectSandbox, type SandboxSupport } from "./detect.ts";
import { bwrapArgs } from "./bwrap.ts";
import { SandboxUnavailable } from "./errors.ts";
import { buildPlan, opencodeDirs, orchestratorDirs, SANDBOX_TMP, type SandboxPlan, type SandboxRequest } from "./plan.ts";
import { sandboxExecArgs } from "./seatbelt.ts";

export type SpawnSpec = { command: string; args: string[]; env: Record<string, string> };

export type Sandboxed = {
  spec: SpawnSpec;
  /** on: inside a sandbox; off: by settings (or no request); exposed: auto mode on a machine without one. */
  state: "on" | "off" | "exposed";
  plan: SandboxPlan | null;
  /** Why `exposed`, with the fix. */
  warning?: string;
};

export const NETWORK_OFF_UNSUPPORTED =
  "sandbox_network: false is not supported yet: the orchestrator talks to OpenCode over 127.0.0.1, which a separate network namespace would cut off";
export const NETWORK_OFF_FIX = 'Remove "sandbox_network" (the default keeps the network), or set "sandbox": "off".';

/** One line for the start-up warning in auto mode: what the agent can read, and how to fix it. */
export function exposedWarning(worker: string, support: Extract<SandboxSupport, { ok: false }>): string {
  return `worker ${worker}: no sandbox (${support.reason}). Its agent can read everything this user can, including workers.json, token files, .env files, the local backend's admin key and other workers' folders. ${support.fix}`;
}

/** Checks a request against the machine: the sandbox to use, or a typed error when it cannot be honoured. */
export function resolveSandbox(request: SandboxRequest, env: NodeJS.ProcessEnv): { use: SandboxSupport & { ok: true } } | { use: null; warning?: string } {
  const { mode, network } = request.settings;
  if (mode === "off") return { use: null };
  if (!network) throw new SandboxUnavailable(request.worker, NETWORK_OFF_UNSUPPORTED, NETWORK_OFF_FIX, "unsupported");
  const support = detectSandbox(env);
  if (support.ok) return { use: support };
  if (mode === "on") throw new SandboxUnavailable(request.worker, support.reason, support.fix);
  return { use: null, warning: exposedWarning(request.worker, support) };
}

export function sandboxSpawn(spec: SpawnSpec, directory: string, request: SandboxRequest | undefined): Sandboxed {
  if (!request) return { spec, state: "off", plan: null };
  const r = resolveSandbox(request, spec.env);
  if (!r.use) return { spec, state: r.use === null && r.warning ? "exposed" : "off", plan: null, warning: r.warning };
  // Mount points must exist: OpenCode's folders to write in, ours so that they are hidden even
  // when created later (the local backend's data folder, the first leftover record).
  for (const d of [...opencodeDirs(spec.env), ...orchestratorDirs(spec.env)]) mkdirSync(d, { recursive: true, mode: 0o700 });
  // Run OpenCode by its absolute path, which the plan keeps visible inside.
  const executable = executablePath(spec.command, spec.env.PATH) ?? spec.command;
  const plan = buildPlan(directory, request, spec.env, [executable]);
  if (r.use.kind === "bwrap") {
    return {
      spec: { command: r.use.path, args: [...bwrapArgs(plan), "--", executable, ...spec.args], env: { ...spec.env, TMPDIR: SANDBOX_TMP } },
      state: "on",
      plan,
    };
  }
  const tmpDirs = [spec.env.TMPDIR, "/private/tmp", "/private/var/folders"].filter((d): d is string => !!d);
  return { spec: { command: r.use.path, args: [...sandboxExecArgs(plan, tmpDirs), spec.command, ...spec.args], env: spec.env }, state: "on", plan };
}

/** `command` as an absolute path: itself when it has a slash, else the first match on PATH. */
function executablePath(command: string, path: string | undefined): string | undefined {
  return command.includes("/") ? resolve(command) : findOnPath(command, path);
}
