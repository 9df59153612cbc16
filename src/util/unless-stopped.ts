// Waiting on something that a stop makes moot: the wait ends as soon as the signal aborts.

/** `p`'s value, or `stopped` as soon as `stop` aborts (at once when it already has). */
export function unlessStopped<T>(p: Promise<T>, stop: AbortSignal, stopped: T): Promise<T> {
  if (stop.aborted) return Promise.resolve(stopped);
  return new Promise<T>((res) => {
    const onStop = () => res(stopped);
    stop.addEventListener("abort", onStop, { once: true });
    void p.then(res).finally(() => stop.removeEventListener("abort", onStop));
  });
}
