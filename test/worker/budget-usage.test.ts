// A worker's usage totals (src/worker/budget-usage.ts): a step reported again adds only its
// difference; today is the UTC day and reads as zero once it is over; restarts add up.
import { expect, test } from "bun:test";
import type { Usage } from "../../src/backend/api.ts";
import { addUsageStats, emptyUsage, turnUsage, usageToday, utcDay } from "../../src/worker/budget-usage.ts";

const step = (input: number, output: number, cost: number): Usage => ({ scope: "step", input, output, reasoning: 0, cacheRead: 0, cacheWrite: 0, cost });

test("steps add up; the same step reported again (updated or replayed) counts once", () => {
  const stats = emptyUsage();
  const turn = turnUsage(stats, "m1");
  expect(turn.record("usage:a", step(10, 20, 0.05))).toBeCloseTo(0.05, 10);
  expect(turn.record("usage:a", step(10, 20, 0.05))).toBeCloseTo(0.05, 10);
  expect(turn.record("usage:a", step(12, 20, 0.06))).toBeCloseTo(0.06, 10);
  expect(turn.record("usage:b", step(10, 20, 0.05))).toBeCloseTo(0.11, 10);
  expect(stats.total).toMatchObject({ input: 22, output: 40 });
  expect(stats.total.cost).toBeCloseTo(0.11, 10);
  expect(stats.today.cost).toBeCloseTo(0.11, 10);
  expect(stats.lastTurn).toMatchObject({ messageId: "m1", input: 22 });
  // A second turn adds to the worker's totals, not to the first turn's.
  const other = turnUsage(stats, "m2");
  expect(other.record("usage:c", step(1, 1, 0.01))).toBeCloseTo(0.01, 10);
  expect(stats.total.cost).toBeCloseTo(0.12, 10);
  expect(stats.lastTurn).toMatchObject({ messageId: "m2", input: 1 });
});

test("today is the UTC day: yesterday's count reads as zero; restarts add within one day only", () => {
  const yesterday = Date.parse("2026-11-30T23:59:00Z");
  const now = Date.parse("2026-12-01T00:01:00Z");
  expect(utcDay(yesterday)).toBe("2026-11-30");
  const old = emptyUsage(yesterday);
  old.today = { ...old.today, cost: 3 };
  old.total = { ...old.total, cost: 3 };
  expect(usageToday(old, yesterday).cost).toBe(3);
  expect(usageToday(old, now)).toMatchObject({ day: "2026-12-01", cost: 0 });
  const fresh = emptyUsage(now);
  fresh.today = { ...fresh.today, cost: 1 };
  fresh.total = { ...fresh.total, cost: 1 };
  const sum = addUsageStats(old, fresh, now);
  expect(sum.total.cost).toBe(4);
  expect(sum.today).toMatchObject({ day: "2026-12-01", cost: 1 });
});
