// Retried mutations are answered from the memo while a client could still retry them, and
// the memo does not keep outcomes beyond that (count and age bounds).
import { expect, test } from "bun:test";
import { createRequestMemo } from "../../src/local-backend/request-memo.ts";

test("a retry gets the first outcome; old or surplus entries are forgotten", async () => {
  let clock = 0;
  const memo = createRequestMemo(3, 1000, () => clock);
  let runs = 0;
  const run = () => Promise.resolve(++runs);
  expect(await memo.once("a", run)).toBe(1);
  expect(await memo.once("a", run)).toBe(1);
  clock = 500;
  await memo.once("b", run);
  clock = 1400; // "a" is now older than 1000 ms, "b" is not
  await memo.once("c", run);
  expect(await memo.once("b", run)).toBe(2);
  expect(await memo.once("a", run)).toBe(4);
  // Count bound: a fourth distinct key pushes out the oldest.
  await memo.once("d", run);
  expect(await memo.once("b", run)).toBe(6);
});
