// What a worker's turns have used, in tokens and US dollars as OpenCode reports them: since the
// worker started, today, and per turn. Counted from the turns' per-step usage parts (each model
// call's tokens and cost); a part reported again (updated, or replayed after a reconnect) adds
// only its difference. "Today" is the UTC day: it starts at 00:00 UTC, whatever the host's zone.
import type { Usage } from "../backend/api.ts";
import { utcDay } from "../../convex/lib/spend.ts";

export type UsageTotals = { input: number; output: number; reasoning: number; cacheRead: number; cacheWrite: number; cost: number };

export type UsageStats = {
  /** Since this worker (the manager's slot: across restarts) started. */
  total: UsageTotals;
  /** The UTC day `day` (YYYY-MM-DD); read it through `usageToday`, which knows when a day ended. */
  today: UsageTotals & { day: string };
  /** The turn that reported usage last (running or finished). */
  lastTurn: (UsageTotals & { messageId: string }) | null;
};

const FIELDS = ["input", "output", "reasoning", "cacheRead", "cacheWrite", "cost"] as const;

export function zeroUsage(): UsageTotals {
  return { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0, cost: 0 };
}

export function emptyUsage(now = Date.now()): UsageStats {
  return { total: zeroUsage(), today: { ...zeroUsage(), day: utcDay(now) }, lastTurn: null };
}

/** The UTC calendar day of `ms`, as YYYY-MM-DD. */
export { utcDay };

export function sumUsage(a: UsageTotals, b: UsageTotals): UsageTotals {
  const out = zeroUsage();
  for (const f of FIELDS) out[f] = a[f] + b[f];
  return out;
}

/** Today's totals as of `now`: zero once the recorded day is over. */
export function usageToday(s: UsageStats, now = Date.now()): UsageTotals & { day: string } {
  const day = utcDay(now);
  return s.today.day === day ? s.today : { ...zeroUsage(), day };
}

/** Two counts added up (a worker's restarts): totals add; today adds only within one day. */
export function addUsageStats(a: UsageStats, b: UsageStats, now = Date.now()): UsageStats {
  const ta = usageToday(a, now);
  const tb = usageToday(b, now);
  return { total: sumUsage(a.total, b.total), today: { ...sumUsage(ta, tb), day: ta.day }, lastTurn: b.lastTurn ?? a.lastTurn };
}

export type TurnUsage = {
  /** A step's usage (per part key); returns the turn's cost so far. */
  record(key: string, u: Usage): number;
  readonly cost: number;
};

/** Counts one turn's steps into `stats` as they are reported. */
export function turnUsage(stats: UsageStats, messageId: string): TurnUsage {
  const seen = new Map<string, UsageTotals>();
  let turn = zeroUsage();
  return {
    get cost() {
      return turn.cost;
    },
    record(key, u) {
      const now = usageOf(u);
      const before = seen.get(key) ?? zeroUsage();
      seen.set(key, now);
      const delta = zeroUsage();
      for (const f of FIELDS) delta[f] = now[f] - before[f];
      turn = sumUsage(turn, delta);
      const today = usageToday(stats, Date.now());
      stats.total = sumUsage(stats.total, delta);
      stats.today = { ...sumUsage(today, delta), day: today.day };
      stats.lastTurn = { ...turn, messageId };
      return turn.cost;
    },
  };
}

function usageOf(u: Usage): UsageTotals {
  return { input: u.input, output: u.output, reasoning: u.reasoning, cacheRead: u.cacheRead, cacheWrite: u.cacheWrite, cost: u.cost };
}

/** Cents for ordinary sums; small ones keep four decimals so a cheap model's cost is not shown as $0.00. */
export function dollars(n: number): string {
  if (!Number.isFinite(n)) return "-";
  return `$${n !== 0 && Math.abs(n) < 1 ? n.toFixed(4) : n.toFixed(2)}`;
}
