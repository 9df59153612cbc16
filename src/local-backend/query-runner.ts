// The engine's query path. A query runs on the committed snapshot without any lock; the
// commits applied while it ran are remembered, and a run whose reads one of them touched
// runs again, so every result is one consistent snapshot. Identical queries in flight at
// once (many clients re-running the same one after a commit) share one run.
import type { Value } from "convex/values";
import type { Commit, CommitPipeline } from "./commits.ts";
import { execute, type Caller, type Host, type Registered } from "./runtime.ts";
import type { Store } from "./store.ts";
import { createTx, touches, type Tx } from "./transaction.ts";
import type { Writer } from "./engine-writes.ts";

const QUERY_RETRIES = 3;

export type QueryRun = { value?: Value; error?: unknown; tx: Tx; ts: bigint };

export type QueryRunner = {
  run(fn: Registered, args: Record<string, Value>, caller: Caller, lines: string[], host: Host): Promise<QueryRun>;
  /** A commit was applied: remember it while any query that may have missed it runs. */
  committed(c: Commit): void;
  /** `start()`'s promise, shared with any caller asking for the same `key` before it settles. */
  shared<T>(key: string, start: () => Promise<T>): Promise<T>;
};

export function createQueryRunner(deps: { store: Store; commits: CommitPipeline; writer: Writer; stats: { queryExecutions: number } }): QueryRunner {
  const { store, commits, writer, stats } = deps;
  // Queries in flight, each with the timestamp its snapshot started at.
  const activeQueries = new Map<Tx, bigint>();
  let recentCommits: Commit[] = [];
  const inFlight = new Map<string, Promise<unknown>>();

  async function run(fn: Registered, args: Record<string, Value>, caller: Caller, lines: string[], host: Host, locked = false): Promise<QueryRun> {
    for (let attempt = 0; ; attempt++) {
      const tx = createTx(store, false);
      const start = commits.visibleTs;
      const attemptLines: string[] = [];
      activeQueries.set(tx, start);
      let value: Value | undefined;
      let error: unknown;
      try {
        value = await execute(fn, "query", args, { host, tx, caller, lines: attemptLines });
      } catch (e) {
        error = e;
      } finally {
        activeQueries.delete(tx);
      }
      stats.queryExecutions++;
      const conflicted = recentCommits.some((c) => c.ts > start && touches(tx.reads, c.writes, store));
      pruneRecent();
      if (conflicted && attempt >= QUERY_RETRIES && !locked) {
        // Still racing writers: once more with mutations held off and nothing left to apply.
        return writer.oneAtATime(async () => {
          commits.flush();
          return run(fn, args, caller, lines, host, true);
        });
      }
      if (!conflicted || locked) {
        lines.push(...attemptLines);
        return { value, error, tx, ts: commits.visibleTs };
      }
    }
  }

  function pruneRecent(): void {
    if (activeQueries.size === 0) {
      recentCommits = [];
      return;
    }
    const oldest = [...activeQueries.values()].reduce((a, b) => (a < b ? a : b));
    recentCommits = recentCommits.filter((c) => c.ts > oldest);
  }

  function shared<T>(key: string, start: () => Promise<T>): Promise<T> {
    let pending = inFlight.get(key) as Promise<T> | undefined;
    if (!pending) {
      // Nothing is kept once it settles: the next caller gets a fresh run.
      pending = start().finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  return {
    run: (fn, args, caller, lines, host) => run(fn, args, caller, lines, host),
    committed(c) {
      if (activeQueries.size > 0) recentCommits.push(c);
    },
    shared,
  };
}
