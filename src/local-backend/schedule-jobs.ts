// Running one scheduled job or cron (schedules.ts decides when). A job's state moves
// pending → inProgress → success/failed in its own commits, except a mutation's, whose
// success commits with the mutation itself.
import type { Value } from "convex/values";
import { jsonToConvex, type JSONValue } from "convex/values";
import { nextRun, type CronSpec } from "./cron-schedule.ts";
import { docRec } from "./persistence.ts";
import { CRON_TABLE, lowerBound, SCHEDULED_TABLE, type Doc, type DocRec, type Store } from "./store.ts";
import { committedValue, txWrite, type Tx } from "./transaction.ts";
import { errorMessage } from "../util/errors.ts";
import type { SchedulesDeps } from "./schedules.ts";
import { compareKeys } from "./values.ts";

/** The documents of an index range with key prefix `eq`, optionally up to `before` in the next key field. */
export function rangeDocs(store: Store, table: string, indexName: string, eq: Value[], before?: number): DocRec[] {
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

export async function runJob(deps: SchedulesDeps, running: Set<string>, job: DocRec): Promise<void> {
  if (running.has(job.id)) return;
  running.add(job.id);
  try {
    const name = String(job.value.name);
    const args = ((job.value.args as Value[])[0] ?? {}) as Record<string, Value>;
    if ((await deps.kindOf(name)) === "mutation") return await runMutationJob(deps, job.id, name, args);
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
      deps.log?.warn("a scheduled function failed", { function: name, error });
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
async function runMutationJob(deps: SchedulesDeps, id: string, name: string, args: Record<string, Value>): Promise<void> {
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
    deps.log?.warn("a scheduled function failed", { function: name, error });
    await deps.transact((tx) => {
      const now = pending(tx);
      if (now) setState(tx, now, { kind: "failed", error });
    });
  }
}

export async function runCron(deps: SchedulesDeps, spec: CronSpec, doc: DocRec): Promise<void> {
  await deps.transact((tx) => {
    const value = { ...doc.value, nextRun: nextRun(spec.schedule, Date.now()) } as Doc;
    txWrite(tx, CRON_TABLE, doc.id, docRec(CRON_TABLE, value));
  });
  try {
    await deps.runFunction(spec.fn, jsonToConvex((spec.args[0] ?? {}) as JSONValue) as Record<string, Value>);
  } catch (e) {
    deps.log?.warn("a cron job failed", { cron: spec.id, function: spec.fn, error: errorMessage(e) });
  }
}

/**
 * After a start: fail the jobs that were running when the backend stopped, and make
 * _cron_jobs hold exactly the crons module's jobs (new ones first due at their next run).
 */
export function reconcile(store: Store, specs: readonly CronSpec[], tx: Tx, creationTime: () => number): void {
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
}
