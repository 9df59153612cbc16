// Person-side lookups: a worker named on the command line by id or name, and the summary
// shown by `admin list` (never the secret hash).
import { fail } from "./errors";
import { lastHeartbeatOf, livenessOf } from "./liveness";
import type { Doc, QueryCtx } from "./server";

export async function resolveWorker(ctx: QueryCtx, ref: string): Promise<Doc<"workers">> {
  const byId = await ctx.db
    .query("workers")
    .withIndex("by_workerId", (q) => q.eq("workerId", ref))
    .unique();
  const byName = await ctx.db
    .query("workers")
    .withIndex("by_name", (q) => q.eq("name", ref))
    .unique();
  if (byId && byName && byId._id !== byName._id) {
    fail(
      "INVALID",
      `"${ref}" is ambiguous: it is the id of worker "${byId.name}" and the name of worker ${byName.workerId}. ` +
        `Use the other worker's id (${byName.workerId}) or this worker's name ("${byId.name}").`,
    );
  }
  const worker = byId ?? byName;
  if (!worker) fail("NOT_FOUND", `No worker with id or name "${ref}". See \`admin list\`.`);
  return worker;
}

export async function machineName(ctx: QueryCtx, machineId: string): Promise<string> {
  const machine = await ctx.db
    .query("machines")
    .withIndex("by_machineId", (q) => q.eq("machineId", machineId))
    .unique();
  return machine?.name ?? machineId;
}

export type WorkerSummary = {
  machineId: string;
  machineName: string;
  workerId: string;
  name: string;
  approval: Doc<"workers">["approval"];
  status: Doc<"workers">["status"];
  lastHeartbeatAt: number | null;
  hostname: string | null;
  version: string | null;
  directory: string | null;
  createdAt: number;
  approvedAt: number | null;
  models: Doc<"workers">["models"];
  /** A person paused it: it finishes what it runs and takes no new prompts until resumed. */
  paused: boolean;
  /** Labels sessions are routed by, and the sessions it runs at once (null: not reported). */
  tags: string[];
  capacity: number | null;
};

/** The summary of one worker as it is stored now (after the caller's writes). */
export async function summaryOf(ctx: QueryCtx, workerDocId: Doc<"workers">["_id"]): Promise<WorkerSummary> {
  const worker = (await ctx.db.get(workerDocId))!;
  return workerSummary(worker, await machineName(ctx, worker.machineId), lastHeartbeatOf(worker, await livenessOf(ctx, worker.workerId)));
}

export function workerSummary(worker: Doc<"workers">, machine: string, lastHeartbeatAt: number | null): WorkerSummary {
  return {
    machineId: worker.machineId,
    machineName: machine,
    workerId: worker.workerId,
    name: worker.name,
    approval: worker.approval,
    status: worker.status,
    lastHeartbeatAt,
    hostname: worker.hostname ?? null,
    version: worker.version ?? null,
    directory: worker.directory ?? null,
    createdAt: worker.createdAt,
    approvedAt: worker.approvedAt ?? null,
    models: worker.models,
    paused: worker.drainRequested,
    tags: worker.tags ?? [],
    capacity: worker.capacity ?? null,
  };
}
