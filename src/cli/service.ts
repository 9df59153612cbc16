// `service install|uninstall|status [--dry-run] [--config PATH]`: runs `orchestrate` under the
// platform's service manager (a systemd user unit or a launchd LaunchAgent) with the stop and
// restart behaviour docs/service.md asks for, and says what it did.
import { mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { resolveConfigPath } from "../config/paths.ts";
import { DEFAULTS, type OrchestratorConfig } from "../config/types.ts";
import { loadWorkersConfig } from "../config/workers-file.ts";
import { ConfigError, EXIT, RuntimeFailure, UsageError } from "../util/errors.ts";
import type { CommandContext } from "./command-spec.ts";
import { launchdLogFile, runTool, serviceManager, stepText, type ServiceManager, type Step } from "./service-manager.ts";
import { defaultShutdownTimeoutSeconds, type ServiceSpec } from "./service-unit.ts";

export const SERVICE_ACTIONS = ["install", "uninstall", "status"] as const;

/** How to start this very program again: the executable, or the runtime plus our script. */
function selfCommand(): string[] {
  const runtime = /^(node|nodejs|bun)([-\d.]*)(\.exe)?$/i.test(basename(process.execPath));
  return runtime && process.argv[1] ? [process.execPath, realpathSync(process.argv[1])] : [process.execPath];
}

async function loadConfig(path: string): Promise<OrchestratorConfig | ConfigError> {
  try {
    return await loadWorkersConfig(path, { createTemplate: false });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
}

function serviceSpec(ctx: CommandContext, config: OrchestratorConfig | ConfigError, configPath: string): ServiceSpec {
  const program = selfCommand();
  if (program.some((p) => /[\\/](_npx|dlx-[^\\/]*|\.pnpm-store)[\\/]/.test(p))) {
    ctx.stderr(
      `warning: this copy runs from a package manager's temporary cache (${program.at(-1)}), which may be cleaned. ` +
        "Install it first (the binary, or npm install -g) and run service install from there.",
    );
  }
  return {
    program,
    args: ["--config", configPath],
    shutdownTimeoutSeconds: config instanceof ConfigError ? defaultShutdownTimeoutSeconds() : config.shutdownTimeoutMs / 1000,
    path: process.env.PATH,
    logFile: launchdLogFile(),
  };
}

async function runSteps(ctx: CommandContext, steps: Step[]): Promise<void> {
  for (const step of steps) {
    const r = await runTool(step);
    if (r.code !== 0 && !step.mayFail) {
      throw new RuntimeFailure(`\`${stepText(step)}\` failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
    }
    ctx.stderr(`ran: ${stepText(step)}`);
  }
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

async function install(ctx: CommandContext, manager: ServiceManager, dryRun: boolean): Promise<number> {
  const configPath = resolveConfigPath({ flag: typeof ctx.flags.config === "string" ? ctx.flags.config : undefined }).path;
  const config = await loadConfig(configPath);
  const text = manager.render(serviceSpec(ctx, config, configPath));
  if (dryRun) {
    ctx.write(text);
    if (config instanceof ConfigError) ctx.stderr(`note: ${config.message}; the service would exit 78 until it is fixed.`);
    ctx.stderr(`--dry-run: nothing written. service install would write ${manager.file} and run:\n${manager.install.map((s) => `  ${stepText(s)}`).join("\n")}`);
    return EXIT.ok;
  }
  await manager.check();
  // A service that can only exit 78 is no use: show the config problems now instead.
  if (config instanceof ConfigError) throw config;
  const previous = readOrEmpty(manager.file);
  mkdirSync(dirname(manager.file), { recursive: true });
  const tmp = `${manager.file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, manager.file);
  ctx.stderr(`${previous ? (previous === text ? "unchanged" : "updated") : "wrote"}: ${manager.file}`);
  await runSteps(ctx, manager.install);
  if (manager.name === "systemd" && previous && previous !== text) {
    ctx.stderr("The unit changed; apply it with a drained restart: systemctl --user restart opencode-orchestrator");
  }
  ctx.stderr(`Installed: orchestrate runs under ${manager.name} with ${configPath}.`);
  for (const line of await manager.afterInstall()) ctx.stderr(line);
  ctx.stderr("Check it with: opencode-orchestrator service status");
  return EXIT.ok;
}

async function uninstall(ctx: CommandContext, manager: ServiceManager, dryRun: boolean): Promise<number> {
  if (dryRun) {
    ctx.stderr(`--dry-run: nothing changed. service uninstall would run ${stepText(manager.uninstall[0]!)}, remove ${manager.file}, then:\n${manager.afterRemove.map((s) => `  ${stepText(s)}`).join("\n") || "  (nothing)"}`);
    return EXIT.ok;
  }
  await manager.check();
  if (!readOrEmpty(manager.file)) {
    ctx.stderr(`Not installed (no ${manager.file}); nothing to do.`);
    return EXIT.ok;
  }
  // Stopping drains running answers first, so this can take up to the stop timeout.
  ctx.stderr("Stopping the service (running answers finish first)…");
  await runSteps(ctx, manager.uninstall);
  rmSync(manager.file, { force: true });
  ctx.stderr(`removed: ${manager.file}`);
  await runSteps(ctx, manager.afterRemove);
  return EXIT.ok;
}

async function status(ctx: CommandContext, manager: ServiceManager): Promise<number> {
  await manager.check();
  const view = await runTool(manager.status, 15_000);
  ctx.stdout(`${manager.name}:`);
  ctx.stdout((view.stdout || view.stderr).trimEnd() || "(no output)");
  const configPath = resolveConfigPath({ flag: typeof ctx.flags.config === "string" ? ctx.flags.config : undefined }).path;
  const config = await loadConfig(configPath);
  const address = config instanceof ConfigError ? DEFAULTS.statusAddress : config.statusAddress;
  if (address === null) {
    ctx.stdout("healthz: the status endpoint is off (status_address in workers.json)");
    return view.code === 0 ? EXIT.ok : EXIT.failure;
  }
  // A wildcard bind is reached through loopback.
  const url = `http://${address.replace(/^0\.0\.0\.0:/, "127.0.0.1:").replace(/^\[::\]:/, "[::1]:")}/healthz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    ctx.stdout(`healthz (${url}): ${res.status} ${(await res.text()).trim()}`);
    return view.code === 0 && res.ok ? EXIT.ok : EXIT.failure;
  } catch (e) {
    ctx.stdout(`healthz (${url}): no answer (${(e as Error).message})`);
    return EXIT.failure;
  }
}

export async function run(ctx: CommandContext): Promise<number> {
  const action = ctx.positionals[0];
  if (!(SERVICE_ACTIONS as readonly string[]).includes(action ?? "")) {
    throw new UsageError(`unknown action "${action}": use ${SERVICE_ACTIONS.join(", ")}`, { command: "service" });
  }
  const manager = serviceManager();
  const dryRun = ctx.flags["dry-run"] === true;
  if (action === "install") return install(ctx, manager, dryRun);
  if (action === "uninstall") return uninstall(ctx, manager, dryRun);
  return status(ctx, manager);
}
