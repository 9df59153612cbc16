// After a reconnect the Convex client sends its in-flight mutations again (even ones that
// already ran: it relies on the server to recognise them). Remembering each mutation's
// outcome by (session, request id) makes the retry return the first outcome instead of
// running twice — the difference between "claimed" and "someone else claimed it".

export type RequestMemo = {
  /** Run `fn` once per key; later calls with the same key get the first call's promise. */
  once<T>(key: string, fn: () => Promise<T>): Promise<T>;
};

export function createRequestMemo(limit = 10_000): RequestMemo {
  const entries = new Map<string, Promise<unknown>>();
  return {
    once<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const known = entries.get(key);
      if (known) return known as Promise<T>;
      const p = fn();
      entries.set(key, p);
      // Oldest first: a client retries within seconds, not after ten thousand other mutations.
      if (entries.size > limit) entries.delete(entries.keys().next().value!);
      return p;
    },
  };
}
