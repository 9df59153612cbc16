// What `dev` and `orchestrate` share once they have a config: the real agent starter, the
// leftover reaper and the status server, handed to the one foreground runner.
import { readConfigEnv } from "../config/env.ts";
import type { OrchestratorConfig } from "../config/types.ts";
import { runForeground } from "../manager/run.ts";
import type { CommandContext } from "./command.ts";

export async function runWorkers(ctx: CommandContext, config: OrchestratorConfig, reloadConfig?: () => Promise<OrchestratorConfig>): Promise<number> {
  const [{ startAgent, reapLeftoverAgents }, { startStatusServer }, { checkSandboxes }] = await Promise.all([
    import("../agent/index.ts"),
    import("../manager/status-server.ts"),
    import("../agent/sandbox/index.ts"),
  ]);
  checkSandboxes(config, ctx.log);
  for (const w of config.warnings) ctx.log.warn(`${w.file ? `${w.file}: ` : ""}${w.path}: ${w.message}${w.fix ? ` (${w.fix})` : ""}`);
  return runForeground({
    config,
    ctx,
    startAgent,
    reapLeftovers: async (log) => (await reapLeftoverAgents(log)).stopped.length,
    reloadConfig,
    startStatusServer,
    relayWindowMs: readConfigEnv().relayWindowMs,
  });
}
