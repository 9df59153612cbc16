// OpenCode processes started at the same moment on a fresh data folder race in their database
// migrations and one of them exits; `opencode serve` and `opencode models` both migrate, so
// they start one at a time (≈2–3 s each). A server start has a prompt waiting for it, a model
// listing only fills a menu: starts go ahead of every listing still queued, so a prompt sent
// right after `orchestrate` starts does not wait for a hundred workers' listings.

export type AgentJob = "start" | "listing";

export type AgentQueue = <T>(job: AgentJob, fn: () => Promise<T>) => Promise<T>;

export function createAgentQueue(): AgentQueue {
  const waiting: Record<AgentJob, (() => void)[]> = { start: [], listing: [] };
  let busy = false;
  const next = () => {
    const go = waiting.start.shift() ?? waiting.listing.shift();
    busy = go !== undefined;
    go?.();
  };
  return <T>(job: AgentJob, fn: () => Promise<T>) =>
    new Promise<T>((res, rej) => {
      const run = () => {
        // A job that throws synchronously still frees the queue.
        Promise.resolve()
          .then(fn)
          .then(res, rej)
          .finally(next);
      };
      if (busy) waiting[job].push(run);
      else {
        busy = true;
        run();
      }
    });
}
