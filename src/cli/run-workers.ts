// What `dev` and `orchestrate` share once they have a config: the real agent starter, the
// leftover reaper and the status server, handed to the one foreground runner.
import { readConfigEnv } from "../config/env.ts";
import type { OrchestratorConfig } from "../config/types.ts";
import { runForeground, type ForegroundHost } from "../manager/run.ts";
import { dropAdminKeys } from "./admin-key-env.ts";
import { withOpencodeFound } from "./opencode-lookup.ts";

export async function runWorkers(
  ctx: ForegroundHost,
  loaded: OrchestratorConfig,
  reloadConfig?: () => Promise<OrchestratorConfig>,
): Promise<number> {
  dropAdminKeys(ctx.log);
  const [{ startAgent, listAgentModels, reapLeftoverAgents }, { startStatusServer }, { checkSandboxes }] = await Promise.all([
    import("../agent/index.ts"),
    import("../manager/status-server.ts"),
    import("../agent/sandbox/index.ts"),
  ]);
  const config = withOpencodeFound(loaded, ctx.log);
  checkSandboxes(config, ctx.log);
  for (const w of config.warnings) ctx.log.warn(`${w.file ? `${w.file}: ` : ""}${w.path}: ${w.message}${w.fix ? ` (${w.fix})` : ""}`);
  return runForeground({
    config,
    ctx,
    startAgent,
    listModels: listAgentModels,
    reapLeftovers: async (log) => (await reapLeftoverAgents(log)).stopped.length,
    reloadConfig: reloadConfig && (async () => withOpencodeFound(await reloadConfig(), ctx.log)),
    startStatusServer,
    relayWindowMs: readConfigEnv().relayWindowMs,
  });
}
