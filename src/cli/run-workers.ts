// What `dev` and `orchestrate` share once they have a config: the real agent starter, the
// leftover reaper and the status server, handed to the one foreground runner.
import type { OrchestratorConfig } from "../config/types.ts";
import { runForeground } from "../manager/run.ts";
import type { CommandContext } from "./command.ts";

export async function runWorkers(ctx: CommandContext, config: OrchestratorConfig, reloadConfig?: () => Promise<OrchestratorConfig>): Promise<number> {
  const [{ startAgent, reapLeftoverAgents }, { startStatusServer }] = await Promise.all([
    import("../agent/index.ts"),
    import("../manager/status-server.ts"),
  ]);
  for (const w of config.warnings) ctx.log.warn(`${w.file ? `${w.file}: ` : ""}${w.path}: ${w.message}${w.fix ? ` (${w.fix})` : ""}`);
  return runForeground({
    config,
    ctx,
    startAgent,
    reapLeftovers: async (log) => (await reapLeftoverAgents(log)).stopped.length,
    reloadConfig,
    startStatusServer,
    relayWindowMs: relayWindowFromEnv(),
  });
}

/** Undocumented knob for tests and benchmarks: the output batching window. */
function relayWindowFromEnv(): number | undefined {
  const v = Number(process.env.OPENCODE_ORCHESTRATOR_RELAY_WINDOW_MS);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}
