// The worker's running turns: what runs, how it is stopped from our side, and what the
// finished ones add up to.
import type { PendingMessage } from "../backend/api.ts";
import type { WorkerBackend } from "../backend/worker-client.ts";
import type { Logger } from "../util/log.ts";
import type { AgentHost } from "./agent-host.ts";
import { answerMessage, type StopReason } from "./answer.ts";
import { failureText } from "./failure.ts";
import { emptyUsage, turnUsage, usageToday, type UsageStats } from "./budget-usage.ts";
import { createTurnBudget, type AskPerson, type BudgetLimits } from "./budget.ts";
import type { RequestDesk } from "./requests.ts";
import type { Watchdog } from "./watchdog.ts";

export type WorkerStats = {
  turns: Record<"completed" | "failed" | "cancelled" | "interrupted", number>;
  relayBatches: number;
  heartbeatsFailed: number;
  /** Tokens and cost of the turns (budget-usage.ts). */
  usage: UsageStats;
};

export function emptyStats(): WorkerStats {
  return { turns: { completed: 0, failed: 0, cancelled: 0, interrupted: 0 }, relayBatches: 0, heartbeatsFailed: 0, usage: emptyUsage() };
}

export type Turns = {
  readonly size: number;
  ids(): string[];
  has(messageId: string): boolean;
  /** Runs a claimed message; `onEnded` once it is over, whatever the outcome. */
  start(msg: PendingMessage, on: { backend: WorkerBackend; agents: AgentHost; onEnded: () => void }): void;
  /** A person asked to cancel this running message. */
  cancel(messageId: string): void;
  /** Our side stops one running turn (it hung): it ends `interrupted` with `reason`. */
  interrupt(messageId: string, reason: string): void;
  /** Our side stops every running turn: each ends `interrupted` with `reason`. */
  interruptAll(reason: string): void;
  /** The worker gave up on its backend: pending writes of running turns are dropped. */
  abandonBackend(): void;
  /** Resolves when no turn runs. */
  settled(): Promise<void>;
};

export function createTurns(o: {
  instanceId: string;
  log: Logger;
  stats: WorkerStats;
  /** Spend limits, whom to ask when one is crossed, and today's spend of earlier runs (budget.ts). */
  spend: { limits: BudgetLimits; askPerson: AskPerson; spentBefore: () => number };
  watchdog: Watchdog;
  inactivityTimeoutMs: number;
  relayWindowMs: number;
  requests: RequestDesk;
}): Turns {
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  // chat session id → OpenCode session id, remembered across this worker's turns.
  const sessions = new Map<string, string>();
  const abandon = new AbortController();
  const stopWith = (id: string, why: StopReason) => {
    const r = running.get(id);
    if (r && !r.controller.signal.aborted) r.controller.abort(why);
  };

  return {
    get size() {
      return running.size;
    },
    ids: () => [...running.keys()],
    has: (id) => running.has(id),
    start(msg, on) {
      const controller = new AbortController();
      const usage = turnUsage(o.stats.usage, msg.messageId);
      const entry = { controller, done: Promise.resolve() };
      running.set(msg.messageId, entry);
      o.watchdog.turnStarted(msg.messageId);
      const deps = {
        backend: on.backend,
        instanceId: o.instanceId,
        agents: on.agents,
        sessions,
        inactivityTimeoutMs: o.inactivityTimeoutMs,
        relayWindowMs: o.relayWindowMs,
        log: o.log,
        onActivity: () => o.watchdog.activity(msg.messageId),
        requests: o.requests,
        abandon: abandon.signal,
        usage,
        budget: createTurnBudget({
          limits: o.spend.limits,
          messageId: msg.messageId,
          usage,
          spentToday: () => usageToday(o.stats.usage).cost + o.spend.spentBefore(),
          askPerson: o.spend.askPerson,
        }),
      };
      entry.done = answerMessage(deps, msg, controller.signal)
        .then(
          (r) => {
            o.stats.turns[r.outcome]++;
            o.stats.relayBatches += r.batches;
          },
          (e) => o.log.error("turn crashed", { messageId: msg.messageId, error: failureText(e) }),
        )
        .finally(() => {
          o.watchdog.turnEnded(msg.messageId);
          running.delete(msg.messageId);
          on.onEnded();
        });
    },
    cancel(id) {
      if (!running.has(id) || running.get(id)!.controller.signal.aborted) return;
      o.log.info("cancel requested", { messageId: id });
      stopWith(id, { kind: "cancel" });
    },
    interrupt: (id, reason) => stopWith(id, { kind: "interrupt", reason }),
    interruptAll(reason) {
      for (const id of running.keys()) stopWith(id, { kind: "interrupt", reason });
    },
    abandonBackend: () => abandon.abort(),
    async settled() {
      while (running.size > 0) await Promise.all([...running.values()].map((r) => r.done));
    },
  };
}
