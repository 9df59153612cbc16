// What the relay's next batch carries: the answer text pushed since the last batch, and the
// changes to the turn's parts, merged where that loses nothing a reader should see.
import type { PartUpdate } from "../backend/api.ts";
import { MAX_PART_UPDATES, REASONING_CHARS } from "../../convex/lib/constants.ts";

export type NextBatch = {
  /** Answer text; with `partId`, the text part it belongs to is recorded too. */
  addText(delta: string, partId?: string): void;
  addPart(u: PartUpdate): void;
  /** Big enough to go out now rather than at the end of the window. */
  full(): boolean;
  empty(): boolean;
  /** Everything waiting, or at most MAX_PART_UPDATES part changes (the rest wait for the next). */
  take(): { text: string; parts: PartUpdate[] };
  /** Forget everything waiting (the relay failed for good). */
  drop(): void;
};

export function createNextBatch(maxChars: number): NextBatch {
  let buffer = "";
  const pending = createPending();
  /** Characters of answer text pushed so far: where the next text part piece starts. */
  let offset = 0;
  return {
    addText(delta, partId) {
      buffer += delta;
      if (partId !== undefined) pending.add({ key: partId, kind: "text", start: offset, end: offset + delta.length });
      offset += delta.length;
    },
    addPart: (u) => pending.add(u),
    full: () => buffer.length + pending.chars >= maxChars || pending.count >= MAX_PART_UPDATES / 2,
    empty: () => buffer === "" && pending.count === 0,
    take() {
      const text = buffer;
      buffer = "";
      return { text, parts: pending.take(MAX_PART_UPDATES) };
    },
    drop() {
      buffer = "";
      pending.take();
    },
  };
}

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
