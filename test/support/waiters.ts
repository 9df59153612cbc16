// Event-driven waiting for test support: `notify()` whenever state changes; `until()` resolves
// as soon as its check finds what it waits for, without polling.

export type Waiters = {
  notify(): void;
  /**
   * Resolves with the first value `check` returns that is not undefined; rejects with what
   * `check` throws, or with `timeoutError()` after `timeoutMs`.
   */
  until<T>(check: () => T | undefined, timeoutMs: number, timeoutError: () => Error): Promise<T>;
};

export function createWaiters(): Waiters {
  const waiting = new Set<() => void>();
  return {
    notify() {
      for (const w of [...waiting]) w();
    },
    until(check, timeoutMs, timeoutError) {
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          waiting.delete(attempt);
        };
        const attempt = () => {
          try {
            const v = check();
            if (v === undefined) return;
            done();
            resolve(v);
          } catch (e) {
            done();
            reject(e);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(timeoutError());
        }, timeoutMs);
        waiting.add(attempt);
        attempt();
      });
    },
  };
}
