// The read index finds exactly the read sets a commit touches: compared with the plain check
// (transaction.ts `touches`, which asks every read set) over random documents, index ranges
// and writes, including values that compare equal but look different (-0 and 0).
import { describe, expect, test } from "bun:test";
import type { Value } from "convex/values";
import { docRec } from "../../src/local-backend/persistence.ts";
import { createReadIndex, encode } from "../../src/local-backend/read-index.ts";
import { createStore, keyOf, type Doc, type Write } from "../../src/local-backend/store.ts";
import { touches, type Range, type ReadSet } from "../../src/local-backend/transaction.ts";
import { compareValues } from "../../src/local-backend/values.ts";

const schema = {
  tables: new Map([["t", { name: "t", indexes: [{ name: "by_a_b", fields: ["a", "b"] }] }]]),
  validate: false,
  strictTables: true,
};

// A small seeded generator: a failure prints its seed and repeats with it.
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return { int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

const VALUES: (Value | undefined)[] = [undefined, null, 0, -0, 1, 2, 2n, "x", "y", true, [1, "a"], { k: 1 }];

function randomRange(r: ReturnType<typeof rng>, ids: string[]): Range {
  const index = r.pick(["by_a_b", "by_id", "by_creation_time"]);
  if (index === "by_id") return { table: "t", index, eq: [r.pick(ids)] };
  if (index === "by_creation_time") return { table: "t", index, eq: [], lower: { value: r.int(20), inclusive: r.int(2) === 0 } };
  const eq = Array.from({ length: r.int(3) }, () => r.pick(VALUES));
  const bound = () => ({ value: r.pick(VALUES), inclusive: r.int(2) === 0 });
  return { table: "t", index, eq, ...(r.int(2) ? { lower: bound() } : {}), ...(r.int(2) ? { upper: bound() } : {}) };
}

describe("read index", () => {
  test("finds the same read sets as checking each of them, over random data", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      const store = createStore(schema);
      const ids = Array.from({ length: 8 }, () => store.newId("t"));
      const doc = (id: string, t: number): Doc => ({ _id: id, _creationTime: t, a: r.pick(VALUES) as Value, b: r.pick(VALUES) as Value });
      const current = new Map(ids.map((id, i) => [id, docRec("t", doc(id, i))]));
      store.apply([...current.values()].map((next) => ({ table: "t", id: next.id, next })));

      const index = createReadIndex<number>(store);
      const sets: ReadSet[] = [];
      for (let w = 0; w < 30; w++) {
        const reads: ReadSet = { ids: new Set(r.int(3) === 0 ? [r.pick(ids)] : []), ranges: Array.from({ length: r.int(3) }, () => randomRange(r, ids)) };
        sets.push(reads);
        index.set(w, reads);
      }
      for (let c = 0; c < 20; c++) {
        const id = r.pick(ids);
        const old = current.get(id);
        const next = r.int(5) === 0 ? undefined : docRec("t", doc(id, r.int(20)));
        const writes: Write[] = [{ table: "t", id, ...(old ? { old } : {}), ...(next ? { next } : {}) }];
        const expected = sets.flatMap((s, w) => (touches(s, writes, store) ? [w] : []));
        expect({ seed, c, found: [...index.touched(writes)].sort((a, b) => a - b) }).toEqual({ seed, c, found: expected });
        store.apply(writes);
        if (next) current.set(id, next);
        else current.delete(id);
      }
    }
  });

  test("a replaced or deleted read set is no longer found; an unknown one is touched by anything", () => {
    const store = createStore(schema);
    const id = store.newId("t");
    const rec = docRec("t", { _id: id, _creationTime: 1, a: 1, b: 1 });
    const index = createReadIndex<string>(store);
    index.set("by id", { ids: new Set([id]), ranges: [] });
    index.set("not run yet", undefined);
    const write: Write[] = [{ table: "t", id, next: rec }];
    expect([...index.touched(write)].sort()).toEqual(["by id", "not run yet"]);
    index.set("by id", { ids: new Set(), ranges: [{ table: "t", index: "by_a_b", eq: [2] }] });
    index.delete("not run yet");
    expect([...index.touched(write)]).toEqual([]);
    expect([...index.all()]).toEqual(["by id"]);
  });

  test("values that compare equal file under the same text, and only those", () => {
    for (const a of VALUES) {
      for (const b of VALUES) expect({ a, b, same: encode(a) === encode(b) }).toEqual({ a, b, same: compareValues(a, b) === 0 });
    }
    expect(encode({ x: 1, y: 2 })).toBe(encode({ y: 2, x: 1 }));
    expect(keyOf({ _id: "i", _creationTime: 1, a: -0 }, { table: "t", name: "n", fields: ["a"] })).toEqual([-0]);
  });
});
