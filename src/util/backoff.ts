// Capped exponential backoff with jitter: no restart storms, no silent hour-long disable.

export type BackoffPolicy = {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** ±fraction of the delay, so many workers don't retry in lockstep. */
  jitter: number;
};

export const RESTART_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 5 * 60_000, factor: 2, jitter: 0.2 };

/** Delay before retry number `attempt` (1-based). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}

/** A promise that resolves after `ms`, or early (false) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
