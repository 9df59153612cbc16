// The engine's write side: mutations run one at a time (a simple promise chain), and each
// commits through the pipeline. Kept apart from the query path because queries never take
// this lock except as a last resort against racing writers (query-runner.ts).
import type { CommitPipeline } from "./commits.ts";
import type { Store } from "./store.ts";
import type { Clock } from "./timestamp.ts";
import { createTx, type Tx } from "./transaction.ts";

export type Writer = {
  /** Run `fn` after every earlier one settled (mutations never interleave). */
  oneAtATime<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Run `work` in a mutation transaction, one at a time; the lock is released once its
   * writes are staged, and the result comes back once they are durable.
   */
  transaction<T>(work: (tx: Tx) => Promise<T>, origin: unknown): Promise<{ value: T; ts: bigint }>;
  /** A `_creationTime` for a new document. */
  creationTime(): number;
};

export function createWriter(store: Store, commits: CommitPipeline, clock: Clock): Writer {
  let mutationTail: Promise<unknown> = Promise.resolve();
  let lastCreation = Number(clock.now() / 1_000_000n);

  function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = mutationTail.then(fn, fn);
    mutationTail = run.catch(() => {});
    return run;
  }

  async function transaction<T>(work: (tx: Tx) => Promise<T>, origin: unknown): Promise<{ value: T; ts: bigint }> {
    const staged = await oneAtATime(async () => {
      const tx = createTx(store, true, commits.overlay);
      const value = await work(tx);
      return { value, ts: commits.stage(tx, origin) };
    });
    return { value: staged.value, ts: await staged.ts };
  }

  function creationTime(): number {
    // Unique and increasing: two inserts in the same millisecond still sort in order.
    const now = Date.now();
    lastCreation = now > lastCreation ? now : lastCreation + 1 / 1024;
    return lastCreation;
  }

  return { oneAtATime, transaction, creationTime };
}
