// Convex's total order over values, used by indexes, index ranges and filters:
// missing < null < int64 < float64 < boolean < string < bytes < array < object.
import type { Value } from "convex/values";

export type Key = (Value | undefined)[];

function rank(v: Value | undefined): number {
  if (v === undefined) return 0;
  if (v === null) return 1;
  if (typeof v === "bigint") return 2;
  if (typeof v === "number") return 3;
  if (typeof v === "boolean") return 4;
  if (typeof v === "string") return 5;
  if (v instanceof ArrayBuffer) return 6;
  if (Array.isArray(v)) return 7;
  return 8;
}

function compareBytes(a: ArrayBuffer, b: ArrayBuffer): number {
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length - y.length;
}

export function compareValues(a: Value | undefined, b: Value | undefined): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
    case 1:
      return 0;
    case 2:
    case 3: {
      const x = a as number;
      const y = b as number;
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 4:
      return a === b ? 0 : a ? 1 : -1;
    case 5:
      return a! < b! ? -1 : a! > b! ? 1 : 0;
    case 6:
      return compareBytes(a as ArrayBuffer, b as ArrayBuffer);
    case 7:
      return compareKeys(a as Value[], b as Value[]);
    default: {
      const ea = Object.entries(a as Record<string, Value>).sort(([k1], [k2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : 0));
      const eb = Object.entries(b as Record<string, Value>).sort(([k1], [k2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : 0));
      const n = Math.min(ea.length, eb.length);
      for (let i = 0; i < n; i++) {
        const [ka, va] = ea[i]!;
        const [kb, vb] = eb[i]!;
        if (ka !== kb) return ka < kb ? -1 : 1;
        const c = compareValues(va, vb);
        if (c !== 0) return c;
      }
      return ea.length - eb.length;
    }
  }
}

/** Lexicographic order of keys; a shorter key that is a prefix of a longer one sorts first. */
export function compareKeys(a: Key, b: Key): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** `a.b.c` inside a document; undefined when any step is missing or not an object. */
export function fieldValue(doc: Record<string, Value>, path: string): Value | undefined {
  // Most index fields are top-level (every index key reads a few per written document).
  if (!path.includes(".")) return doc[path];
  let cur: Value | undefined = doc;
  for (const part of path.split(".")) {
    if (cur === null || cur === undefined || typeof cur !== "object" || Array.isArray(cur) || cur instanceof ArrayBuffer) return undefined;
    cur = (cur as Record<string, Value>)[part];
  }
  return cur;
}
