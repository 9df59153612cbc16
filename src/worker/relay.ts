// Relays an answer into the backend efficiently: deltas and part changes are coalesced for a
// short window (or until a size limit) and written as numbered batches, one write in flight at
// a time, so an answer costs a handful of mutations. A batch that fails transiently is retried
// with the same sequence number; the backend ignores a batch it already has.
import { sleep } from "../util/backoff.ts";
import type { PartUpdate } from "../backend/api.ts";
import { classifyBackendError } from "../backend/errors.ts";
import { createNextBatch } from "./relay-batch.ts";

export type RelayOptions = {
  write: (seq: number, text: string, parts: PartUpdate[]) => Promise<void>;
  windowMs?: number;
  maxChars?: number;
  /** Aborted: stop retrying a failed batch (the worker gave up on its backend). */
  signal?: AbortSignal;
  /** Called once if a batch can never be written (lease lost, message gone). */
  onFatal?: (e: unknown) => void;
};

export type Relay = {
  /** Answer text; with `partId`, the text part it belongs to is recorded too. */
  push(delta: string, partId?: string): void;
  /** A change to one of the turn's other parts. */
  pushPart(u: Exclude<PartUpdate, { kind: "text" }>): void;
  /** Write everything pushed so far; resolves when the backend has it (or the relay failed). */
  flush(): Promise<void>;
  readonly batches: number;
  readonly chars: number;
  readonly failed: unknown;
};

const RETRY_DELAYS_MS = [250, 1_000, 2_000, 5_000, 10_000];

export function createRelay(opts: RelayOptions): Relay {
  const windowMs = opts.windowMs ?? 100;
  const next = createNextBatch(opts.maxChars ?? 16_000);
  let seq = 0;
  let batches = 0;
  let chars = 0;
  let failed: unknown = undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> | undefined;

  function pump(): Promise<void> {
    if (writing) return writing;
    if (next.empty() || failed !== undefined) return Promise.resolve();
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const { text, parts } = next.take();
    const s = seq++;
    writing = writeWithRetry(opts, s, text, parts).then(
      () => {
        batches++;
        chars += text.length;
        writing = undefined;
        // Deltas that arrived while writing go out as the next batch.
        if (next.full()) void pump();
        else if (!next.empty() && !timer) timer = setTimeout(() => void pump(), windowMs);
      },
      (e) => {
        writing = undefined;
        failed = e;
        next.drop();
        opts.onFatal?.(e);
      },
    );
    return writing;
  }

  function schedule(): void {
    if (writing) return;
    if (next.full()) void pump();
    else if (!timer) timer = setTimeout(() => void pump(), windowMs);
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
    push(delta, partId) {
      if (failed !== undefined || delta === "") return;
      next.addText(delta, partId);
      schedule();
    },
    pushPart(u) {
      if (failed !== undefined) return;
      next.addPart(u);
      schedule();
    },
    async flush() {
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      while (writing || (!next.empty() && failed === undefined)) await pump();
    },
  };
}

/** One batch, retried with the same sequence number while the backend fails transiently. */
async function writeWithRetry(opts: RelayOptions, s: number, text: string, parts: PartUpdate[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await opts.write(s, text, parts);
      return;
    } catch (e) {
      const kind = classifyBackendError(e);
      if ((kind !== "transient" && kind !== "timeout") || attempt >= RETRY_DELAYS_MS.length) throw e;
      if (!(await sleep(RETRY_DELAYS_MS[attempt]!, opts.signal))) throw e;
    }
  }
}
