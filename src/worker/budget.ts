// Spend limits (max_turn_cost, max_daily_cost): when a turn crosses one, the worker pauses the
// turn and asks a person through a budget request whether to go on.
//
// OpenCode cannot hold a turn between two model calls, so "pause" means: the turn is aborted
// in OpenCode as soon as it shows it goes on after the step that crossed (its next text, tool
// or file change; the step under way, if any, is cut), the request is raised, and on "continue"
// the same OpenCode session is prompted with CONTINUE_PROMPT, its answer relayed into the same
// message. A step that crossed but ended the turn lets it complete. Rejected, or nobody answered
// within permission_timeout → the message ends `failed` with that reason.
//
// Each "continue" grants the crossed limit once more for this turn (the next question comes at
// twice the turn limit, or at the day's spend plus another daily limit). A turn that starts
// when the day's spend is already over the daily limit asks before it runs at all.
import type { RequestContent } from "../backend/api.ts";
import { dollars, type TurnUsage } from "./budget-usage.ts";

/** What OpenCode is told to resume a paused turn with. */
export const CONTINUE_PROMPT = "Continue where you stopped: the person allowed more spending on this task.";

export type BudgetLimits = { maxTurnCostUsd: number | null; maxDailyCostUsd: number | null };

/** How a budget request ended (structurally what the worker's request desk reports). */
export type BudgetAnswer =
  | { status: "answered" }
  | { status: "rejected"; message: string | null; reason: string | null }
  | { status: "expired"; reason: string };

export type AskPerson = (ask: { messageId: string; content: RequestContent; key: string }) => Promise<BudgetAnswer>;

type Crossing = { kind: "turn" | "daily"; spent: number; limit: number };

export type TurnBudget = {
  /** No limit is set: nothing to watch. */
  readonly off: boolean;
  /** After a usage change: a limit crossed and not yet asked about (pause the turn), or null. */
  crossed(): Crossing | null;
  /** Asks the person; `continue` raises the crossed limit for this turn. */
  ask(c: Crossing): Promise<{ continue: true } | { continue: false; reason: string }>;
};

export function createTurnBudget(o: {
  limits: BudgetLimits;
  messageId: string;
  usage: TurnUsage;
  /** Today's (UTC day) spend of the worker, this turn included. */
  spentToday: () => number;
  askPerson: AskPerson;
}): TurnBudget {
  let turnLimit = o.limits.maxTurnCostUsd;
  let dailyLimit = o.limits.maxDailyCostUsd;
  let asked = 0;
  return {
    off: turnLimit === null && dailyLimit === null,
    crossed() {
      if (turnLimit !== null && o.usage.cost > turnLimit) return { kind: "turn", spent: o.usage.cost, limit: turnLimit };
      const today = o.spentToday();
      if (dailyLimit !== null && today > dailyLimit) return { kind: "daily", spent: today, limit: dailyLimit };
      return null;
    },
    async ask(c) {
      const title =
        c.kind === "turn"
          ? `this turn has cost ${dollars(c.spent)} of ${dollars(c.limit)} (max_turn_cost) — continue?`
          : `this worker's turns have cost ${dollars(c.spent)} today (UTC) of ${dollars(c.limit)} (max_daily_cost) — continue?`;
      const detail = `Continue: the turn goes on${c.kind === "turn" ? ` until it has cost ${dollars(c.limit + o.limits.maxTurnCostUsd!)}` : ""}. Reject: the answer ends failed.`;
      const a = await o.askPerson({ messageId: o.messageId, content: { kind: "budget", title, detail }, key: `budget:${++asked}` });
      if (a.status === "answered") {
        if (c.kind === "turn") turnLimit = c.limit + o.limits.maxTurnCostUsd!;
        else dailyLimit = Math.max(c.spent, c.limit) + o.limits.maxDailyCostUsd!;
        return { continue: true };
      }
      const spentText = `${c.kind === "turn" ? "this turn" : "today's turns"} cost ${dollars(c.spent)} of ${c.kind === "turn" ? "max_turn_cost" : "max_daily_cost"} ${dollars(c.limit)}`;
      const why = a.status === "rejected" ? (a.message ? `rejected: ${a.message}` : (a.reason ?? "rejected by a person")) : a.reason;
      return { continue: false, reason: `stopped at the spend limit (${spentText}): ${why}` };
    },
  };
}
