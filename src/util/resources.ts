// Every resource (subscription, interval, child process, socket) registers its release
// here; releases run in reverse order, the first error is reported and the rest logged.
import type { Logger } from "./log.ts";
import { errorMessage } from "./errors.ts";

type Release = { label: string; fn: () => void | Promise<void> };

export type ResourceStack = {
  /** Register a release; returns a function that runs it early (and removes it). */
  add(label: string, fn: () => void | Promise<void>): () => Promise<void>;
  /** Run every release in reverse order. Idempotent. Throws the first error after all ran. */
  releaseAll(): Promise<void>;
  readonly size: number;
};

export function resourceStack(log?: Logger): ResourceStack {
  const stack: Release[] = [];
  // After releaseAll, a late add (a start racing a stop) is released at once instead of leaking.
  let closed = false;
  return {
    get size() {
      return stack.length;
    },
    add(label, fn) {
      if (closed) {
        void Promise.resolve()
          .then(fn)
          .catch((e) => log?.warn(`releasing ${label} failed`, { error: errorMessage(e) }));
        return async () => {};
      }
      const entry: Release = { label, fn };
      stack.push(entry);
      return async () => {
        const i = stack.indexOf(entry);
        if (i === -1) return;
        stack.splice(i, 1);
        await entry.fn();
      };
    },
    async releaseAll() {
      closed = true;
      let first: unknown;
      while (stack.length > 0) {
        const r = stack.pop()!;
        try {
          await r.fn();
        } catch (e) {
          if (first === undefined) first = e;
          else log?.warn(`releasing ${r.label} failed`, { error: errorMessage(e) });
        }
      }
      if (first !== undefined) throw first;
    },
  };
}
