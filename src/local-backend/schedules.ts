// Scheduled functions (ctx.scheduler, stored in _scheduled_functions) and the crons of
// convex/crons.ts (next run stored in _cron_jobs). Both live in the data, so they survive a
// restart: pending jobs run when due, and a cron that was due while the backend was down
// runs once when it comes back.
import type { Value } from "convex/values";
import type { Logger } from "../util/log.ts";
import { cronSpecs, type CronSpec } from "./cron-schedule.ts";
import { CRON_TABLE, SCHEDULED_TABLE, type Store, type Write } from "./store.ts";
import { txWrite, type Tx } from "./transaction.ts";
import { errorMessage } from "../util/errors.ts";
import { rangeDocs, reconcile, runCron, runJob } from "./schedule-jobs.ts";

export type Schedules = {
  /** A commit happened: re-arm the timer if it touched jobs or crons. */
  committed(writes: readonly Write[]): void;
  stop(): void;
};

export type SchedulesDeps = {
  store: Store;
  crons: Promise<Record<string, unknown> | undefined>;
  log?: Logger;
  /** One transaction run between mutations and committed at the end. */
  transact<T>(work: (tx: Tx, creationTime: () => number) => T | Promise<T>): Promise<T>;
  /** The kind of a function, or undefined when there is none. */
  kindOf(name: string): Promise<"query" | "mutation" | "action" | undefined>;
  /**
   * Run a job's function; throws what it threw. For a mutation, `inside` runs in its
   * transaction: `before` may skip it (false), `after` records the job's success.
   */
  runFunction(name: string, args: Record<string, Value>, inside?: { before(tx: Tx): boolean; after(tx: Tx): void }): Promise<void>;
};

const MAX_TIMER_MS = 2 ** 31 - 1;
const KEEP_FINISHED_MS = 7 * 24 * 3600 * 1000;
const FINISHED = ["success", "failed", "canceled"];

export function startSchedules(deps: SchedulesDeps): Schedules {
  const { store, log } = deps;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let ticking = false;
  let specs: CronSpec[] = [];
  const running = new Set<string>();

  async function tick(): Promise<void> {
    if (stopped || ticking) return;
    ticking = true;
    try {
      const now = Date.now();
      const work: Promise<void>[] = [];
      for (const job of rangeDocs(store, SCHEDULED_TABLE, "by_state_time", ["pending"], now)) work.push(runJob(deps, running, job));
      for (const spec of specs) {
        const doc = rangeDocs(store, CRON_TABLE, "by_name", [spec.id])[0];
        if (doc && (doc.value.nextRun as number) <= now) work.push(runCron(deps, spec, doc));
      }
      await Promise.all(work);
      await forgetOldJobs(now);
    } catch (e) {
      log?.warn("running scheduled functions failed", { error: errorMessage(e) });
    } finally {
      ticking = false;
      arm();
    }
  }

  async function forgetOldJobs(now: number): Promise<void> {
    const old = FINISHED.flatMap((kind) => rangeDocs(store, SCHEDULED_TABLE, "by_state_time", [kind], now - KEEP_FINISHED_MS)).slice(0, 1000);
    if (old.length === 0) return;
    await deps.transact((tx) => {
      for (const job of old) txWrite(tx, SCHEDULED_TABLE, job.id, undefined);
    });
  }

  function arm(): void {
    if (stopped || ticking) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    let due = Infinity;
    const next = rangeDocs(store, SCHEDULED_TABLE, "by_state_time", ["pending"])[0];
    if (next) due = next.value.scheduledTime as number;
    for (const spec of specs) {
      const doc = rangeDocs(store, CRON_TABLE, "by_name", [spec.id])[0];
      if (doc) due = Math.min(due, doc.value.nextRun as number);
    }
    if (due === Infinity) return;
    timer = setTimeout(() => void tick(), Math.min(MAX_TIMER_MS, Math.max(0, due - Date.now())));
    timer.unref?.();
  }

  async function begin(): Promise<void> {
    specs = cronSpecs(await deps.crons);
    if (stopped) return;
    await deps.transact((tx, creationTime) => reconcile(store, specs, tx, creationTime));
    arm();
  }

  begin().catch((e) => log?.warn("could not start scheduled functions and crons", { error: errorMessage(e) }));

  return {
    committed(writes) {
      if (!ticking && writes.some((w) => w.table === SCHEDULED_TABLE || w.table === CRON_TABLE)) arm();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
