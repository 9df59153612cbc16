// Person-side administration. Everything here is internal: callable only with the
// deployment's admin key (`npx convex run admin:list`, the `admin` command), never by a worker.
import { makeFunctionReference } from "convex/server";
import { v, type ObjectType } from "convex/values";
import { LEASE_MS, MAX_NAME_CHARS, MAX_OPEN_REQUESTS, MAX_RETENTION_DAYS, OFFLINE_AFTER_MS, RETENTION_DAYS_DEFAULT, SWEEP_BATCH } from "./lib/constants";
import { deleteExpired as deleteExpiredPage, retentionDays, type Deleted } from "./lib/retention";
import { findWorker } from "./lib/auth";
import { checkText, fail } from "./lib/errors";
import { recoverMessage, runningMessages, type Recovered } from "./lib/messages";
import { closeOpenRequests } from "./lib/requests";
import { resolveWorker, summaryOf, workerSummary } from "./lib/people";
import { routeWaitingTo } from "./lib/routing";
import { moveRouted } from "./lib/routing-moves";
import { lastHeartbeatOf, setStatus } from "./lib/liveness";
import { randomId, randomSecret } from "./lib/random";
import { sha256Hex } from "./lib/sha256";
import { internalAction, internalMutation, internalQuery, type MutationCtx, type QueryCtx } from "./lib/server";

// Worker names are typed on command lines (`admin approve <name>`), so keep them shell-friendly.
const WORKER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkMachineName(name: string): string {
  const trimmed = checkText("Machine name", name, MAX_NAME_CHARS);
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) fail("INVALID", "Machine name must not contain control characters.");
  return trimmed;
}

function checkWorkerName(name: string): string {
  const trimmed = checkText("Worker name", name, MAX_NAME_CHARS);
  if (!WORKER_NAME.test(trimmed)) {
    fail("INVALID", `Worker name "${trimmed}" may only use letters, digits, ".", "_" and "-", starting with a letter or digit.`);
  }
  return trimmed;
}

async function nameTaken(ctx: MutationCtx, name: string): Promise<boolean> {
  return (await ctx.db.query("workers").withIndex("by_name", (q) => q.eq("name", name)).first()) !== null;
}

/** `<machine>-<n>` with the smallest n free in the deployment, so names stay unique and readable. */
async function defaultWorkerName(ctx: MutationCtx, machine: string): Promise<string> {
  const slug = machine.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "worker";
  for (let n = 1; ; n++) {
    if (!(await nameTaken(ctx, `${slug}-${n}`))) return `${slug}-${n}`;
  }
}

const createWorkerArgs = {
  machineName: v.string(),
  workerName: v.optional(v.string()),
  newMachineId: v.string(),
  workerId: v.string(),
  secretHash: v.string(),
};
type CreateWorkerResult =
  | { created: true; machineId: string; workerId: string; name: string; machineName: string }
  | { created: false };

/** The database half of addWorker: ids and hash come from the action, where randomness is real. */
export const createWorker = internalMutation({
  args: createWorkerArgs,
  handler: async (ctx, args): Promise<CreateWorkerResult> => {
    const machine = checkMachineName(args.machineName);
    const wanted = args.workerName === undefined ? undefined : checkWorkerName(args.workerName);
    if (wanted !== undefined && (await nameTaken(ctx, wanted))) {
      fail("CONFLICT", `A worker named "${wanted}" already exists; choose another name.`);
    }
    // A name equal to another worker's id would make `approve <name>` ambiguous.
    if (wanted !== undefined && (await ctx.db.query("workers").withIndex("by_workerId", (q) => q.eq("workerId", wanted)).first())) {
      fail("CONFLICT", `"${wanted}" is already a worker id; choose another name.`);
    }
    const byWorkerId = await ctx.db.query("workers").withIndex("by_workerId", (q) => q.eq("workerId", args.workerId)).first();
    if (byWorkerId) return { created: false };
    let row = await ctx.db.query("machines").withIndex("by_name", (q) => q.eq("name", machine)).unique();
    if (!row) {
      const idTaken = await ctx.db.query("machines").withIndex("by_machineId", (q) => q.eq("machineId", args.newMachineId)).first();
      if (idTaken) return { created: false };
      const id = await ctx.db.insert("machines", { machineId: args.newMachineId, name: machine, createdAt: Date.now() });
      row = (await ctx.db.get(id))!;
    }
    const name = wanted ?? (await defaultWorkerName(ctx, machine));
    await ctx.db.insert("workers", {
      workerId: args.workerId,
      machineId: row.machineId,
      name,
      secretHash: args.secretHash,
      approval: "pending",
      status: "offline",
      drainRequested: false,
      models: [],
      createdAt: Date.now(),
    });
    return { created: true, machineId: row.machineId, workerId: args.workerId, name, machineName: machine };
  },
});

const createWorkerRef = makeFunctionReference<"mutation", ObjectType<typeof createWorkerArgs>, CreateWorkerResult>("admin:createWorker");

export const addWorker = internalAction({
  args: { machineName: v.string(), workerName: v.optional(v.string()) },
  handler: async (ctx, { machineName, workerName }) => {
    // Ids are 62 random bits, so a collision is practically impossible; retry anyway rather than fail.
    for (let attempt = 0; attempt < 5; attempt++) {
      const secret = randomSecret();
      const result = await ctx.runMutation(createWorkerRef, {
        machineName,
        ...(workerName === undefined ? {} : { workerName }),
        newMachineId: randomId(),
        workerId: randomId(),
        secretHash: await sha256Hex(secret),
      });
      if (result.created) {
        // The only time the secret exists outside the worker: it is returned once and never stored.
        return {
          token: `machine_${result.machineId}:worker_${result.workerId}:secret_${secret}`,
          machineId: result.machineId,
          workerId: result.workerId,
          name: result.name,
          machineName: result.machineName,
        };
      }
    }
    return fail("CONFLICT", "Could not find a free worker id; try again.");
  },
});

/**
 * Settles one page of a revoked worker's open messages: queued ones are cancelled, running
 * ones interrupted. True when more queued messages may remain for another transaction.
 */
async function settleRevokedPage(ctx: MutationCtx, workerId: string): Promise<boolean> {
  const now = Date.now();
  const queued = await ctx.db
    .query("messages")
    .withIndex("by_worker_status", (q) => q.eq("workerId", workerId).eq("status", "queued"))
    .take(SWEEP_BATCH);
  // Prompts of sessions routed by tags go to another worker with those tags instead.
  const revoked = await findWorker(ctx, workerId);
  for (const m of revoked ? await moveRouted(ctx, revoked, queued) : queued) {
    await ctx.db.patch(m._id, { status: "cancelled", reason: "its worker was revoked", finishedAt: now });
  }
  for (const m of await runningMessages(ctx, workerId)) {
    await closeOpenRequests(ctx, m._id, "the worker was revoked");
    await ctx.db.patch(m._id, {
      status: "interrupted",
      reason: "worker was revoked while answering",
      finishedAt: now,
      leaseInstanceId: undefined,
      leaseExpiresAt: undefined,
    });
  }
  return queued.length === SWEEP_BATCH;
}

/** The rest of a revocation whose worker had more queued messages than one transaction settles. */
export const settleRevoked = internalMutation({
  args: { workerId: v.string() },
  handler: async (ctx, { workerId }) => {
    if (await settleRevokedPage(ctx, workerId)) await ctx.scheduler.runAfter(0, settleRevokedRef, { workerId });
    return null;
  },
});

const settleRevokedRef = makeFunctionReference<"mutation", { workerId: string }, null>("admin:settleRevoked");

export const approve = internalMutation({
  args: { worker: v.string() },
  handler: async (ctx, { worker: ref }) => {
    const worker = await resolveWorker(ctx, ref);
    // A revoked token may have leaked; bringing it back would undo the revocation's point.
    if (worker.approval === "revoked") fail("CONFLICT", `Worker "${worker.name}" was revoked and cannot be approved again; add a new worker.`);
    if (worker.approval === "pending") await ctx.db.patch(worker._id, { approval: "approved", approvedAt: Date.now() });
    return await summaryOf(ctx, worker._id);
  },
});

export const revoke = internalMutation({
  args: { worker: v.string() },
  handler: async (ctx, { worker: ref }) => {
    const worker = await resolveWorker(ctx, ref);
    if (worker.approval !== "revoked") {
      const now = Date.now();
      await ctx.db.patch(worker._id, { approval: "revoked", revokedAt: now });
      await setStatus(ctx, worker, "offline");
      // The worker can no longer report on its messages, so settle them now rather than leave them waiting.
      if (await settleRevokedPage(ctx, worker.workerId)) await ctx.scheduler.runAfter(0, settleRevokedRef, { workerId: worker.workerId });
    }
    return await summaryOf(ctx, worker._id);
  },
});

/**
 * Pause or resume a worker from anywhere: the worker sees it by subscription, finishes the
 * answers it runs, takes no new prompts while paused (they wait queued), and goes on when
 * resumed — no login on its machine needed.
 */
export const setPaused = internalMutation({
  args: { worker: v.string(), paused: v.boolean() },
  handler: async (ctx, { worker: ref, paused }) => {
    const worker = await resolveWorker(ctx, ref);
    if (worker.approval === "revoked") fail("CONFLICT", `Worker "${worker.name}" was revoked; there is nothing to pause or resume.`);
    if (worker.drainRequested !== paused) await ctx.db.patch(worker._id, { drainRequested: paused });
    if (!paused) await routeWaitingTo(ctx, worker._id);
    return await summaryOf(ctx, worker._id);
  },
});

/** Requests waiting for a person, per worker (at most MAX_OPEN_REQUESTS are counted). */
async function pendingByWorker(ctx: QueryCtx): Promise<Map<string, number>> {
  const rows = await ctx.db
    .query("requests")
    .withIndex("by_status_worker", (q) => q.eq("status", "pending"))
    .take(MAX_OPEN_REQUESTS);
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.workerId, (counts.get(r.workerId) ?? 0) + 1);
  return counts;
}

export const list = internalQuery({
  args: {},
  handler: async (ctx) => {
    // A person-side listing: reading every machine and worker is the point, and the tables are small.
    const names = new Map((await ctx.db.query("machines").collect()).map((m) => [m.machineId, m.name]));
    const beats = new Map((await ctx.db.query("liveness").collect()).map((l) => [l.workerId, l]));
    const workers = await ctx.db.query("workers").collect();
    const pending = await pendingByWorker(ctx);
    return workers
      .map((w) => ({
        ...workerSummary(w, names.get(w.machineId) ?? w.machineId, lastHeartbeatOf(w, beats.get(w.workerId) ?? null)),
        pendingRequests: pending.get(w.workerId) ?? 0,
      }))
      .sort((a, b) => a.machineName.localeCompare(b.machineName) || a.name.localeCompare(b.name));
  },
});

export const sweep = internalMutation({
  args: {},
  handler: async (ctx) => {
    const now = Date.now();
    const counts: Recovered = { requeued: 0, interrupted: 0 };
    const expired = await ctx.db
      .query("messages")
      .withIndex("by_status_lease", (q) => q.eq("status", "running").lt("leaseExpiresAt", now))
      .take(SWEEP_BATCH);
    for (const message of expired) {
      await recoverMessage(ctx, message, `worker stopped responding while answering (no sign of life for ${LEASE_MS / 1000} s)`, counts);
    }
    let offline = 0;
    const silent = await ctx.db
      .query("liveness")
      .withIndex("by_live_heartbeat", (q) => q.eq("live", true).lt("lastHeartbeatAt", now - OFFLINE_AFTER_MS))
      .take(SWEEP_BATCH);
    for (const row of silent) {
      const worker = await findWorker(ctx, row.workerId);
      if (worker) await setStatus(ctx, worker, "offline");
      else await ctx.db.patch(row._id, { live: false });
      offline++;
    }
    // Workers stored before liveness had its own table and silent since: their beat is on the row.
    for (const status of ["online", "draining"] as const) {
      const legacy = await ctx.db
        .query("workers")
        .withIndex("by_status_heartbeat", (q) => q.eq("status", status).gte("lastHeartbeatAt", 0).lt("lastHeartbeatAt", now - OFFLINE_AFTER_MS))
        .take(SWEEP_BATCH);
      for (const worker of legacy) {
        await setStatus(ctx, worker, "offline");
        offline++;
      }
    }
    return { ...counts, offline };
  },
});

/** Sets how long data is kept (days, or null for ever); returns the setting now in force. */
export const setRetention = internalMutation({
  args: { days: v.union(v.number(), v.null()) },
  handler: async (ctx, { days }) => {
    if (days !== null && (!Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS)) {
      fail("INVALID", `Retention must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}, or null to keep everything; got ${days}.`);
    }
    const row = await ctx.db
      .query("settings")
      .withIndex("by_name", (q) => q.eq("name", "retention"))
      .unique();
    if (row) await ctx.db.patch(row._id, { retentionDays: days });
    else await ctx.db.insert("settings", { name: "retention", retentionDays: days });
    return { days };
  },
});

export const retention = internalQuery({
  args: {},
  handler: async (ctx) => ({ days: await retentionDays(ctx), defaultDays: RETENTION_DAYS_DEFAULT }),
});

const deleteExpiredRef = makeFunctionReference<"mutation", { maxDocs?: number }, Deleted>("admin:deleteExpired");

/** Run by the cron: one bounded page of deletions, continued at once while more is due. */
export const deleteExpired = internalMutation({
  args: { maxDocs: v.optional(v.number()) },
  handler: async (ctx, { maxDocs }) => {
    const deleted = await deleteExpiredPage(ctx, maxDocs);
    if (deleted.more) await ctx.scheduler.runAfter(0, deleteExpiredRef, maxDocs === undefined ? {} : { maxDocs });
    return deleted;
  },
});
