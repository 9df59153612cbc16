// The worker's models in the backend, so a person can pick one (`chat --model`) before the
// first prompt: listed once at start without a server (`opencode models`, src/agent/models.ts)
// and again whenever OpenCode starts, as its config may have changed since. The newest listing
// wins, whichever finishes first.
import { MAX_MODELS } from "../../convex/lib/constants.ts";
import type { ModelInfo } from "../backend/api.ts";
import type { WorkerBackend } from "../backend/worker-client.ts";
import type { WorkerConfig } from "../config/types.ts";
import { RuntimeFailure } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import type { ResourceStack } from "../util/resources.ts";
import { unlessStopped } from "../util/unless-stopped.ts";
import { agentQueue, type AgentHost } from "./agent-host.ts";
import type { ListModels } from "./agent-types.ts";
import { failureText } from "./failure.ts";

export function publishWorkerModels(o: {
  config: WorkerConfig;
  log: Logger;
  resources: ResourceStack;
  backend: WorkerBackend;
  host: AgentHost;
  listModels?: ListModels;
  stopping: () => boolean;
}): void {
  const { log } = o;
  const stop = new AbortController();
  // Released once the listing's process is gone, not merely told to go (one still queued has none).
  let listing: Promise<unknown> | undefined;
  o.resources.add("model listing", async () => {
    stop.abort();
    await listing?.catch(() => {});
  });
  let issued = 0;
  let newest = 0;
  const publish = (source: string, list: () => Promise<ModelInfo[]>) => {
    const ticket = ++issued;
    list()
      .then(async (models) => {
        if (ticket < newest) return; // a later listing already landed
        newest = ticket;
        if (models.length > MAX_MODELS) log.warn(`OpenCode offers ${models.length} models; the first ${MAX_MODELS} are published`);
        await o.backend.publishModels(models.slice(0, MAX_MODELS));
        log.info("models published", { source, count: models.length });
      })
      .catch((e) => {
        // Stopping cuts a listing short; that is no news.
        if (stop.signal.aborted || o.stopping()) return log.debug("model listing ended by the stop", { source, error: failureText(e) });
        log.warn("could not publish the worker's models; `chat --model` cannot pick one until they are", { source, error: failureText(e) });
      });
  };
  if (o.listModels) {
    const { workingDirectory: directory, opencodePath } = o.config;
    const listModels = o.listModels;
    // Only once the worker is registered: the list is of no use before it can be published,
    // and an OpenCode process (seconds of CPU) must not slow a hundred workers going online.
    // Then through the same queue as server starts (OpenCode migrates its database on either), behind them.
    void unlessStopped(o.backend.registered.then(() => true), stop.signal, false).then((go) => {
      if (!go) return;
      publish("opencode models", () =>
        agentQueue("listing", () => {
          // Its turn may come while the worker is stopping (its resources, and so the abort, come
          // last): a process started then would only be stopped again.
          if (stop.signal.aborted || o.stopping()) return Promise.reject(new RuntimeFailure("not listing OpenCode's models: the worker is stopping"));
          return (listing = listModels({ directory, opencodePath, log: log.child("opencode"), signal: stop.signal }));
        }),
      );
    });
  }
  o.host.onStarted((server) => publish("OpenCode", () => server.listModels()));
}
