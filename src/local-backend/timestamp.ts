// Convex timestamps on the wire: a u64 as standard base64 of 8 little-endian bytes, in
// nanoseconds since the epoch like the real backend. The clock only moves forward, so a
// client that saw a timestamp from an earlier run of this backend never sees time go back.

export function encodeTs(ts: bigint): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt.asUintN(64, ts));
  return bytes.toString("base64");
}

export function decodeTs(encoded: string): bigint | undefined {
  const bytes = Buffer.from(encoded, "base64");
  if (bytes.length !== 8) return undefined;
  return bytes.readBigUInt64LE();
}

export type Clock = {
  /** The latest timestamp handed out. */
  now(): bigint;
  /** A new timestamp, strictly greater than every earlier one. */
  next(): bigint;
  /** Make sure later timestamps are above `ts` (a client saw it from an earlier run). */
  observe(ts: bigint): void;
};

const wallNanos = (): bigint => BigInt(Date.now()) * 1_000_000n;

export function createClock(): Clock {
  let last = wallNanos();
  return {
    now: () => last,
    next() {
      const wall = wallNanos();
      last = wall > last ? wall : last + 1n;
      return last;
    },
    observe(ts) {
      if (ts > last) last = ts;
    },
  };
}
