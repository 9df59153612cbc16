// What a worker opens when it starts, each registered for release: the backend connection
// (with its reports when it drops or cannot be reached at all) and the host of its OpenCode.
import { connectWorkerBackend, type WorkerBackend } from "../backend/worker-client.ts";
import type { WorkerConfig } from "../config/types.ts";
import type { Logger } from "../util/log.ts";
import type { ResourceStack } from "../util/resources.ts";
import { createAgentHost, type AgentHost } from "./agent-host.ts";
import type { ListModels, StartAgent } from "./agent-types.ts";
import { reportConnectionChanges } from "./connection.ts";
import { publishWorkerModels } from "./models.ts";

/** How long a worker waits for its first backend connection before saying it cannot reach it. */
const UNREACHABLE_WARN_MS = 5_000;

export function openBackend(o: { config: WorkerConfig; log: Logger; resources: ResourceStack; callTimeoutMs?: number }): WorkerBackend {
  const { config, log, resources } = o;
  const b = connectWorkerBackend(config.convexUrl, config.token, { log, ...(o.callTimeoutMs ? { callTimeoutMs: o.callTimeoutMs } : {}) });
  resources.add("backend connection", () => b.close());
  resources.add("connection reports", reportConnectionChanges(b, log, config.convexUrl));
  // Calls wait for the connection up to their timeout; say early why nothing happens.
  const unreachable = setTimeout(() => {
    if (!b.connection().everConnected) {
      log.warn(`cannot reach the backend at ${config.convexUrl} yet; still trying — check the URL and that the backend is running`);
    }
  }, UNREACHABLE_WARN_MS);
  unreachable.unref?.();
  resources.add("reachability check", () => clearTimeout(unreachable));
  return b;
}

/** OpenCode for the worker's folder, started on first use; its models are published now and when it starts. */
export function openAgentHost(o: {
  config: WorkerConfig;
  log: Logger;
  resources: ResourceStack;
  startAgent: StartAgent;
  listModels?: ListModels;
  backend: WorkerBackend;
  /** True once the worker is stopping: a listing still queued then is not started. */
  stopping: () => boolean;
}): AgentHost {
  const { config, log } = o;
  const host = createAgentHost({
    start: o.startAgent,
    directory: config.workingDirectory,
    opencodePath: config.opencodePath,
    idleTimeoutMs: config.agentIdleTimeoutMs,
    ...(config.permission ? { permission: config.permission } : {}),
    log,
  });
  publishWorkerModels({ config, log, resources: o.resources, backend: o.backend, host, listModels: o.listModels, stopping: o.stopping });
  o.resources.add("OpenCode", () => host.stop());
  return host;
}
