// Worker authentication: every public function takes the token's three parts and checks
// the secret against the stored hash. Unknown worker, wrong machine and wrong secret all
// produce the same error, so the public surface never reveals which workers exist.
import { v } from "convex/values";
import { fail } from "./errors";
import { constantTimeEqual, sha256Hex } from "./sha256";
import type { Doc, MutationCtx, QueryCtx } from "./server";

export const workerAuthValidator = v.object({ machineId: v.string(), workerId: v.string(), secret: v.string() });
export type WorkerAuthArg = { machineId: string; workerId: string; secret: string };

const TOKEN_PART = /^[A-Za-z0-9_-]{1,128}$/;
// Compared against when the worker does not exist, so that path costs the same as a wrong secret.
const NO_SUCH_HASH = "0".repeat(64);

const UNAUTHORIZED = "Worker token not accepted: unknown worker or wrong secret.";

export async function findWorker(ctx: QueryCtx, workerId: string): Promise<Doc<"workers"> | null> {
  return await ctx.db
    .query("workers")
    .withIndex("by_workerId", (q) => q.eq("workerId", workerId))
    .unique();
}

/**
 * The authenticated worker, whatever its approval. Throws UNAUTHORIZED for a bad token.
 * Revocation is left to the caller (see `requireActiveWorker`) because `self` reports it.
 */
export async function authenticateWorker(ctx: QueryCtx, auth: WorkerAuthArg): Promise<Doc<"workers">> {
  const wellFormed = TOKEN_PART.test(auth.machineId) && TOKEN_PART.test(auth.workerId) && TOKEN_PART.test(auth.secret);
  const worker = wellFormed ? await findWorker(ctx, auth.workerId) : null;
  const hashMatches = constantTimeEqual(await sha256Hex(auth.secret), worker?.secretHash ?? NO_SUCH_HASH);
  if (!worker || !hashMatches || worker.machineId !== auth.machineId) fail("UNAUTHORIZED", UNAUTHORIZED);
  return worker;
}

/** The authenticated worker; a revoked worker gets WORKER_REVOKED so it stops retrying. */
export async function requireActiveWorker(ctx: QueryCtx | MutationCtx, auth: WorkerAuthArg): Promise<Doc<"workers">> {
  const worker = await authenticateWorker(ctx, auth);
  if (worker.approval === "revoked") {
    fail("WORKER_REVOKED", `Worker "${worker.name}" was revoked; add a new worker to get a new token.`);
  }
  return worker;
}

/**
 * Only the process that registered last may act for the worker; an older duplicate gets CONFLICT
 * with `takenOver` and the newer process's host and pid, so it can name the process it lost to.
 */
export function requireCurrentInstance(worker: Doc<"workers">, instanceId: string): void {
  if (worker.instanceId === undefined) fail("CONFLICT", "This worker has not registered yet; call register first.");
  if (worker.instanceId !== instanceId) {
    fail("CONFLICT", "Another process registered with this worker's token since this one did; stop this one.", {
      takenOver: 1,
      hostname: worker.hostname ?? "",
      ...(worker.pid !== undefined ? { pid: worker.pid } : {}),
    });
  }
}
