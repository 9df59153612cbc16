// The answer text of one turn, part by part: what was relayed, which parts are closed (their
// full text went out; later deltas are stale), and which are being resynced after the event
// stream reconnected (finished from their final text, not from deltas that may have gaps).
// Pure: every method returns the text to relay now ("" for none); the caller relays it.

export type TurnText = {
  /** A part's type became known (only `text` parts are the answer). */
  noteType(partId: string, type: string): void;
  /** A streamed piece of a part. */
  delta(partId: string, delta: string): string;
  /** A part's final text arrived (its `time.end` is set); kept for a resync that may need it. */
  recordFinal(partId: string, text: string): void;
  /** The part is being finished from its final text (it was resyncing, or never streamed). */
  isResyncing(partId: string): boolean;
  isClosed(partId: string): boolean;
  /** Relay what `fullText` has beyond what went out, and close the part. */
  close(partId: string, fullText: string): string;
  /**
   * The part as a session snapshot (taken after a reconnect) shows it: relay what is missing;
   * a part that has ended is closed, one still streaming is resynced from its final text.
   */
  snapshot(partId: string, text: string, ended: boolean): string;
  /** Characters relayed so far for a part. */
  delivered(partId: string): number;
};

/** `kind`: which parts' streams this follows (the answer's `text`, or `reasoning`). */
export function createTurnText(kind: "text" | "reasoning" = "text"): TurnText {
  const types = new Map<string, string>();
  const delivered = new Map<string, number>();
  const closed = new Set<string>();
  const resyncing = new Set<string>();
  const finals = new Map<string, string>();

  const fill = (partId: string, fullText: string): string => {
    const have = delivered.get(partId) ?? 0;
    if (fullText.length <= have) return "";
    delivered.set(partId, fullText.length);
    return fullText.slice(have);
  };
  const markClosed = (partId: string) => {
    closed.add(partId);
    resyncing.delete(partId);
  };

  return {
    noteType: (partId, type) => void types.set(partId, type),
    delta(partId, delta) {
      if (closed.has(partId) || resyncing.has(partId)) return "";
      const type = types.get(partId);
      // A delta of a part whose type is not known yet counts as the answer's: the answer's
      // first update may come late, a reasoning part's comes before its deltas.
      if (kind === "text" ? type !== undefined && type !== "text" : type !== "reasoning") return "";
      delivered.set(partId, (delivered.get(partId) ?? 0) + delta.length);
      return delta;
    },
    recordFinal: (partId, text) => void finals.set(partId, text),
    isResyncing: (partId) => resyncing.has(partId),
    isClosed: (partId) => closed.has(partId),
    close(partId, fullText) {
      const out = fill(partId, fullText);
      markClosed(partId);
      return out;
    },
    snapshot(partId, text, ended) {
      if (closed.has(partId)) return "";
      let out = fill(partId, text);
      const final = finals.get(partId);
      if (ended || final !== undefined) {
        if (final !== undefined) out += fill(partId, final);
        markClosed(partId);
      } else {
        resyncing.add(partId);
      }
      return out;
    },
    delivered: (partId) => delivered.get(partId) ?? 0,
  };
}
