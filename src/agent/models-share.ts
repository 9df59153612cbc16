// One `opencode models` run for all workers that would get the same answer. Each run costs
// ~3 s of CPU; `orchestrate` with 100 workers in folders without their own OpenCode config
// would otherwise run it 100 times at every start.
//
// The run happens in the sandbox of the worker that asked first, and its result is handed to
// the others. That is sound because the key (models-key.ts) holds everything the output
// depends on, including which config files each worker's sandbox lets it see: a worker that
// would see something else has another key and its own run.
import type { ModelInfo } from "../backend/api.ts";
import { RuntimeFailure } from "../util/errors.ts";
import { listingKey } from "./models-key.ts";
import type { ListModels, ListModelsOptions } from "./models.ts";

/**
 * How long a finished listing is handed out: one start wave. What the key cannot see (the
 * models.dev catalog OpenCode caches, plugins' installed packages) may change meanwhile, and
 * each worker's OpenCode start publishes a fresh list anyway.
 */
export const SHARED_LISTING_TTL_MS = 120_000;
/** Finished listings kept at most (each is one distinct folder config). */
const MAX_ENTRIES = 256;

type Entry = {
  result: Promise<ModelInfo[]>;
  /** Stops the run once nobody waits for it any more. */
  stop: AbortController;
  waiting: number;
  finishedAt: number | null;
};

export type SharedListing = ListModels & {
  /** How many runs were started (the rest were shared). */
  readonly runs: number;
};

export function shareModelListings(list: ListModels, o: { ttlMs?: number; now?: () => number } = {}): SharedListing {
  const ttlMs = o.ttlMs ?? SHARED_LISTING_TTL_MS;
  const now = o.now ?? Date.now;
  const entries = new Map<string, Entry>();
  let runs = 0;

  const prune = () => {
    for (const [key, e] of entries) if (e.finishedAt !== null && now() - e.finishedAt > ttlMs) entries.delete(key);
    // Oldest first (insertion order); only finished ones: a running one has waiters.
    for (const [key, e] of entries) {
      if (entries.size <= MAX_ENTRIES) break;
      if (e.finishedAt !== null) entries.delete(key);
    }
  };

  const begin = (key: string, opts: ListModelsOptions): Entry => {
    runs++;
    const stop = new AbortController();
    const entry: Entry = { result: list({ ...opts, signal: stop.signal }), stop, waiting: 0, finishedAt: null };
    entry.result.then(
      () => void (entry.finishedAt = now()),
      // A failure is handed to those already waiting, never to later callers: they run again.
      () => void (entries.get(key) === entry && entries.delete(key)),
    );
    entries.set(key, entry);
    return entry;
  };

  const shared = (async (opts: ListModelsOptions) => {
    if (opts.signal?.aborted) throw stoppedFailure();
    const key = await listingKey({ directory: opts.directory, opencodePath: opts.opencodePath, env: opts.env ?? process.env, ...(opts.sandbox ? { sandbox: opts.sandbox } : {}) });
    if (opts.signal?.aborted) throw stoppedFailure();
    prune();
    const found = entries.get(key);
    const entry = found && !found.stop.signal.aborted ? found : begin(key, opts);
    if (entry !== found || entry.finishedAt === null) opts.log.debug(entry === found ? "joining a model listing already running" : "listing OpenCode's models");
    else opts.log.debug("models from a listing another worker just ran", { ageMs: now() - entry.finishedAt });
    return await wait(entry, opts.signal);
  }) as SharedListing;
  Object.defineProperty(shared, "runs", { get: () => runs });
  return shared;
}

/**
 * The entry's result for one caller; a caller's stop ends its wait, and the run when it was the
 * last — then its wait ends once the run did, so that a stop awaited is over when the process is.
 */
function wait(entry: Entry, signal: AbortSignal | undefined): Promise<ModelInfo[]> {
  entry.waiting++;
  let left = false;
  /** True when this caller was the last and stopped the run. */
  const leave = (): boolean => {
    if (left) return false;
    left = true;
    signal?.removeEventListener("abort", onAbort);
    if (--entry.waiting > 0 || entry.finishedAt !== null) return false;
    entry.stop.abort();
    return true;
  };
  let onAbort = () => {};
  return new Promise<ModelInfo[]>((res, rej) => {
    onAbort = () => {
      // The last one out waits for the run's own end, below.
      if (!leave()) rej(stoppedFailure());
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    entry.result.then(res, rej).finally(leave);
  });
}

const stoppedFailure = () => new RuntimeFailure("listing OpenCode's models was stopped: the worker is stopping");
