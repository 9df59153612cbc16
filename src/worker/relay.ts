// Relays an answer into the backend efficiently: deltas and part changes are coalesced for a
// short window (or until a size limit) and written as numbered batches, one write in flight at
// a time, so an answer costs a handful of mutations. A batch that fails transiently is retried
// with the same sequence number; the backend ignores a batch it already has.
import { sleep } from "../util/backoff.ts";
import type { PartUpdate } from "../backend/api.ts";
import { classifyBackendError } from "../backend/errors.ts";
import { MAX_PART_UPDATES, REASONING_CHARS } from "../../convex/lib/constants.ts";

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

/** Part changes waiting for the next batch, merged where that loses nothing a reader should see. */
function createPending() {
  let parts = new Map<string, PartUpdate>();
  let chars = 0;
  const size = (u: PartUpdate) => (u.kind === "text" ? 0 : JSON.stringify(u).length);
  return {
    get count() {
      return parts.size;
    },
    get chars() {
      return chars;
    },
    add(u: PartUpdate): void {
      // Each status of a tool call is kept, so readers see pending → running → completed.
      const slot = u.kind === "tool" ? `${u.key}\u0000${u.tool.status}` : u.key;
      const prev = parts.get(slot);
      let next = u;
      if (prev?.kind === "text" && u.kind === "text") next = { ...u, start: prev.start };
      // The backend keeps REASONING_CHARS of a part; one more tells it that some was cut.
      else if (prev?.kind === "reasoning" && u.kind === "reasoning") next = { ...u, append: (prev.append + u.append).slice(0, REASONING_CHARS + 1) };
      chars += size(next) - (prev ? size(prev) : 0);
      parts.set(slot, next);
    },
    /** The oldest `max` changes (a batch may carry only so many); the rest wait for the next. */
    take(max = Number.POSITIVE_INFINITY): PartUpdate[] {
      const all = [...parts.entries()];
      const out = all.slice(0, max);
      parts = new Map(all.slice(max));
      chars = [...parts.values()].reduce((n, u) => n + size(u), 0);
      return out.map(([, u]) => u);
    },
  };
}

export function createRelay(opts: RelayOptions): Relay {
  const windowMs = opts.windowMs ?? 100;
  const maxChars = opts.maxChars ?? 16_000;
  let buffer = "";
  const pending = createPending();
  /** Characters of answer text pushed so far: where the next text part piece starts. */
  let offset = 0;
  let seq = 0;
  let batches = 0;
  let chars = 0;
  let failed: unknown = undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> | undefined;

  async function writeWithRetry(s: number, text: string, parts: PartUpdate[]): Promise<void> {
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

  const full = () => buffer.length + pending.chars >= maxChars || pending.count >= MAX_PART_UPDATES / 2;
  const empty = () => buffer === "" && pending.count === 0;

  function pump(): Promise<void> {
    if (writing) return writing;
    if (empty() || failed !== undefined) return Promise.resolve();
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const text = buffer;
    buffer = "";
    const parts = pending.take(MAX_PART_UPDATES);
    const s = seq++;
    writing = writeWithRetry(s, text, parts).then(
      () => {
        batches++;
        chars += text.length;
        writing = undefined;
        // Deltas that arrived while writing go out as the next batch.
        if (full()) void pump();
        else if (!empty() && !timer) timer = setTimeout(() => void pump(), windowMs);
      },
      (e) => {
        writing = undefined;
        failed = e;
        buffer = "";
        pending.take();
        opts.onFatal?.(e);
      },
    );
    return writing;
  }

  function schedule(): void {
    if (writing) return;
    if (full()) void pump();
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
      buffer += delta;
      if (partId !== undefined) pending.add({ key: partId, kind: "text", start: offset, end: offset + delta.length });
      offset += delta.length;
      schedule();
    },
    pushPart(u) {
      if (failed !== undefined) return;
      pending.add(u);
      schedule();
    },
    async flush() {
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      while (writing || (!empty() && failed === undefined)) await pump();
    },
  };
}
