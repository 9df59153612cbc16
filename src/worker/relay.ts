// Relays an answer into the backend efficiently: deltas are coalesced for a short window (or
// until a size limit) and written as numbered batches, one write in flight at a time, so an
// answer costs a handful of mutations. A batch that fails transiently is retried with the
// same sequence number; the backend ignores a batch it already has.
import { sleep } from "../util/backoff.ts";
import { classifyBackendError } from "../backend/errors.ts";

export type RelayOptions = {
  write: (seq: number, text: string) => Promise<void>;
  windowMs?: number;
  maxChars?: number;
  /** Aborted: stop retrying a failed batch (the worker gave up on its backend). */
  signal?: AbortSignal;
  /** Called once if a batch can never be written (lease lost, message gone). */
  onFatal?: (e: unknown) => void;
};

export type Relay = {
  push(delta: string): void;
  /** Write everything pushed so far; resolves when the backend has it (or the relay failed). */
  flush(): Promise<void>;
  readonly batches: number;
  readonly chars: number;
  readonly failed: unknown;
};

const RETRY_DELAYS_MS = [250, 1_000, 2_000, 5_000, 10_000];

export function createRelay(opts: RelayOptions): Relay {
  const windowMs = opts.windowMs ?? 100;
  const maxChars = opts.maxChars ?? 16_000;
  let buffer = "";
  let seq = 0;
  let batches = 0;
  let chars = 0;
  let failed: unknown = undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> | undefined;

  async function writeWithRetry(s: number, text: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await opts.write(s, text);
        return;
      } catch (e) {
        const kind = classifyBackendError(e);
        if ((kind !== "transient" && kind !== "timeout") || attempt >= RETRY_DELAYS_MS.length) throw e;
        if (!(await sleep(RETRY_DELAYS_MS[attempt]!, opts.signal))) throw e;
      }
    }
  }

  function pump(): Promise<void> {
    if (writing) return writing;
    if (buffer === "" || failed !== undefined) return Promise.resolve();
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const text = buffer;
    buffer = "";
    const s = seq++;
    writing = writeWithRetry(s, text).then(
      () => {
        batches++;
        chars += text.length;
        writing = undefined;
        // Deltas that arrived while writing go out as the next batch.
        if (buffer.length >= maxChars) void pump();
        else if (buffer !== "" && !timer) timer = setTimeout(() => void pump(), windowMs);
      },
      (e) => {
        writing = undefined;
        failed = e;
        buffer = "";
        opts.onFatal?.(e);
      },
    );
    return writing;
  }

  return {
    get batches() {
      return batches;
    },
    get chars() {
      return chars;
    },
    get failed() {
      return failed;
    },
    push(delta) {
      if (failed !== undefined || delta === "") return;
      buffer += delta;
      if (writing) return;
      if (buffer.length >= maxChars) void pump();
      else if (!timer) timer = setTimeout(() => void pump(), windowMs);
    },
    async flush() {
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      while (writing || (buffer !== "" && failed === undefined)) await pump();
    },
  };
}
