// Scheduled functions (ctx.scheduler, stored in _scheduled_functions) and the crons of
// convex/crons.ts (next run stored in _cron_jobs). Both live in the data, so they survive a
// restart: pending jobs run when due, and a cron that was due while the backend was down
// runs once when it comes back.
import type { Value } from "convex/values";
import { jsonToConvex, type JSONValue } from "convex/values";
import type { Logger } from "../util/log.ts";
import { cronSpecs, nextRun, type CronSpec } from "./cron-schedule.ts";
import { docRec } from "./persistence.ts";
import { CRON_TABLE, lowerBound, SCHEDULED_TABLE, type Doc, type DocRec, type Store, type Write } from "./store.ts";
import { compareKeys } from "./values.ts";
import { committedValue, txWrite, type Tx } from "./transaction.ts";
import { errorMessage } from "../util/errors.ts";

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

function rangeDocs(store: Store, table: string, indexName: string, eq: Value[], before?: number): DocRec[] {
  const index = store.index(table, indexName);
  if (!index) return [];
  const out: DocRec[] = [];
  const prefix = (key: readonly (Value | undefined)[]) => compareKeys(key.slice(0, eq.length), eq);
  for (let i = lowerBound(index.entries, (e) => prefix(e.key) < 0); i < index.entries.length; i++) {
    const e = index.entries[i]!;
    if (prefix(e.key) !== 0) break;
    if (before !== undefined && typeof e.key[eq.length] === "number" && (e.key[eq.length] as number) > before) break;
    const rec = store.get(e.id);
    if (rec) out.push(rec);
  }
  return out;
}

function setState(tx: Tx, job: DocRec, state: Record<string, Value>): void {
  const finished = state.kind !== "inProgress" && state.kind !== "pending";
  const value = { ...job.value, state, ...(finished ? { completedTime: Date.now() } : {}) } as Doc;
  txWrite(tx, SCHEDULED_TABLE, job.id, docRec(SCHEDULED_TABLE, value));
}

export function startSchedules(deps: SchedulesDeps): Schedules {
  const { store, log } = deps;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let ticking = false;
  let specs: CronSpec[] = [];
  const running = new Set<string>();

  async function runJob(job: DocRec): Promise<void> {
    if (running.has(job.id)) return;
    running.add(job.id);
    try {
      const name = String(job.value.name);
      const args = ((job.value.args as Value[])[0] ?? {}) as Record<string, Value>;
      if ((await deps.kindOf(name)) === "mutation") return await runMutationJob(job.id, name, args);
      const started = await deps.transact((tx) => {
        const now = committedValue(tx, job.id);
        if (!now || (now.value.state as { kind: string }).kind !== "pending") return false;
        setState(tx, now, { kind: "inProgress" });
        return true;
      });
      if (!started) return;
      let error: string | undefined;
      try {
        await deps.runFunction(name, args);
      } catch (e) {
        error = errorMessage(e);
        log?.warn("a scheduled function failed", { function: name, error });
      }
      await deps.transact((tx) => {
        const now = committedValue(tx, job.id);
        if (now) setState(tx, now, error === undefined ? { kind: "success" } : { kind: "failed", error });
      });
    } finally {
      running.delete(job.id);
    }
  }

  // A scheduled mutation and its job's success are one commit: it runs exactly once, also
  // across a restart (a pending job whose commit never happened simply runs then).
  async function runMutationJob(id: string, name: string, args: Record<string, Value>): Promise<void> {
    const pending = (tx: Tx) => {
      const now = committedValue(tx, id);
      return now !== undefined && (now.value.state as { kind: string }).kind === "pending" ? now : undefined;
    };
    try {
      await deps.runFunction(name, args, {
        before: (tx) => pending(tx) !== undefined,
        after: (tx) => setState(tx, pending(tx)!, { kind: "success" }),
      });
    } catch (e) {
      const error = errorMessage(e);
      log?.warn("a scheduled function failed", { function: name, error });
      await deps.transact((tx) => {
        const now = pending(tx);
        if (now) setState(tx, now, { kind: "failed", error });
      });
    }
  }

  async function runCron(spec: CronSpec, doc: DocRec): Promise<void> {
    await deps.transact((tx) => {
      const value = { ...doc.value, nextRun: nextRun(spec.schedule, Date.now()) } as Doc;
      txWrite(tx, CRON_TABLE, doc.id, docRec(CRON_TABLE, value));
    });
    try {
      await deps.runFunction(spec.fn, jsonToConvex((spec.args[0] ?? {}) as JSONValue) as Record<string, Value>);
    } catch (e) {
      log?.warn("a cron job failed", { cron: spec.id, function: spec.fn, error: errorMessage(e) });
    }
  }

  async function tick(): Promise<void> {
    if (stopped || ticking) return;
    ticking = true;
    try {
      const now = Date.now();
      const work: Promise<void>[] = [];
      for (const job of rangeDocs(store, SCHEDULED_TABLE, "by_state_time", ["pending"], now)) work.push(runJob(job));
      for (const spec of specs) {
        const doc = rangeDocs(store, CRON_TABLE, "by_name", [spec.id])[0];
        if (doc && (doc.value.nextRun as number) <= now) work.push(runCron(spec, doc));
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
    await deps.transact((tx, creationTime) => {
      // An action that was running when the backend stopped is not retried (at most once, like Convex).
      for (const job of rangeDocs(store, SCHEDULED_TABLE, "by_state_time", ["inProgress"])) {
        setState(tx, job, { kind: "failed", error: "Transient error: the backend stopped while this function ran" });
      }
      const wanted = new Set(specs.map((s) => s.id));
      const existing = rangeDocs(store, CRON_TABLE, "by_name", []);
      for (const doc of existing) if (!wanted.has(String(doc.value.name))) txWrite(tx, CRON_TABLE, doc.id, undefined);
      for (const spec of specs) {
        if (existing.some((d) => d.value.name === spec.id)) continue;
        const _id = store.newId(CRON_TABLE);
        txWrite(tx, CRON_TABLE, _id, docRec(CRON_TABLE, { _id, _creationTime: creationTime(), name: spec.id, nextRun: nextRun(spec.schedule, Date.now()) } as Doc));
      }
    });
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
