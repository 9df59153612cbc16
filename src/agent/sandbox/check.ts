// At start (dev, orchestrate): refuse workers whose sandbox cannot be honoured before anything
// runs, and warn once for each worker whose agent will run without one.
import type { OrchestratorConfig } from "../../config/types.ts";
import type { Logger } from "../../util/log.ts";
import { sandboxRequest } from "./request.ts";
import { resolveSandbox } from "./wrap.ts";

export function checkSandboxes(config: Pick<OrchestratorConfig, "source" | "workers">, log: Logger, env: NodeJS.ProcessEnv = process.env): void {
  for (const w of config.workers) {
    const r = resolveSandbox(sandboxRequest(w, config, env), env);
    if (r.use) log.debug("agent sandbox", { worker: w.name, kind: r.use.kind });
    else if ("warning" in r && r.warning) log.warn(r.warning);
  }
}
