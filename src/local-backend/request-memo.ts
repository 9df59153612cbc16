// After a reconnect the Convex client sends its in-flight mutations again (even ones that
// already ran: it relies on the server to recognise them). Remembering each mutation's
// outcome by (session, request id) makes the retry return the first outcome instead of
// running twice — the difference between "claimed" and "someone else claimed it".

export type RequestMemo = {
  /** Run `fn` once per key; later calls with the same key get the first call's promise. */
  once<T>(key: string, fn: () => Promise<T>): Promise<T>;
};

export function createRequestMemo(limit = 10_000, keepMs = 5 * 60_000, now: () => number = Date.now): RequestMemo {
  const entries = new Map<string, { p: Promise<unknown>; at: number }>();
  return {
    once<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const known = entries.get(key);
      if (known) return known.p as Promise<T>;
      const p = fn();
      const at = now();
      entries.set(key, { p, at });
      // Oldest first: a client retries within seconds of reconnecting, not after minutes or
      // ten thousand other mutations — so idle heartbeats do not pile up outcomes.
      for (const [k, e] of entries) {
        if (entries.size <= limit && e.at >= at - keepMs) break;
        entries.delete(k);
      }
      return p;
    },
  };
}
