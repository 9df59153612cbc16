// A worker per folder for `up`: reused from local-workers.json when the backend still knows it,
// else created and approved at once — the person at this machine owns the local backend, so
// there is nobody else to ask.
import { basename } from "node:path";
import { hostname } from "node:os";
import { BackendRefused, type AdminClient } from "../backend/admin-client.ts";
import type { WorkerSummary } from "../backend/api.ts";
import { findLocalWorker, localWorkersPath, readLocalWorkers, saveLocalWorker, type LocalWorkerRecord } from "../config/local-workers.ts";
import { RuntimeFailure } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { safeLine } from "../util/terminal-text.ts";

/** The backend's rule for worker names (convex/admin.ts) and its length cap. */
const NAME_CHARS = /[^A-Za-z0-9._-]+/g;
const MAX_NAME = 64;
const MAX_TRIES = 100;

/** The folder's name as a worker name: other characters become "-", it starts with a letter or digit. */
export function workerNameFor(folder: string): string {
  const cleaned = basename(folder).replace(NAME_CHARS, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, MAX_NAME - 4).replace(/[^A-Za-z0-9]+$/, "");
  return cleaned === "" ? "worker" : cleaned;
}

function machineName(): string {
  return safeLine(hostname()).trim().slice(0, MAX_NAME) || "this-machine";
}

/** Creates the worker under the folder's name, or name-2, name-3, … when taken. */
async function createWorker(admin: AdminClient, folder: string): Promise<{ token: string; workerId: string; name: string }> {
  const base = workerNameFor(folder);
  for (let n = 1; n <= MAX_TRIES; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    try {
      return await admin.addWorker(machineName(), name);
    } catch (e) {
      if (e instanceof BackendRefused && e.code === "CONFLICT") continue;
      throw e;
    }
  }
  throw new RuntimeFailure(`no free worker name like "${base}" after ${MAX_TRIES} tries`, { hint: "Remove unused workers with `opencode-orchestrator admin revoke`." });
}

export type UpWorker = LocalWorkerRecord & { created: boolean };

/**
 * The folder's worker on this backend, approved. A revoked worker is the person's decision and
 * is not replaced behind their back: it fails with the way out.
 */
export async function ensureFolderWorker(admin: AdminClient, backend: string, folder: string, known: WorkerSummary[], log: Logger): Promise<UpWorker> {
  const record = findLocalWorker(await readLocalWorkers(), backend, folder);
  const existing = record && known.find((w) => w.workerId === record.workerId);
  if (record && existing) {
    if (existing.approval === "revoked") {
      throw new RuntimeFailure(`the worker "${safeLine(existing.name)}" of ${folder} was revoked`, {
        hint: `To give the folder a new worker, remove its entry from ${localWorkersPath()} and run up again.`,
      });
    }
    if (existing.approval !== "approved") await admin.approve(record.workerId);
    return { ...record, name: existing.name, created: false };
  }
  // No record, or the backend lost it (new data folder): a new worker.
  if (record) log.warn(`the backend no longer knows the worker of ${folder} (${record.name}): creating a new one`);
  const made = await createWorker(admin, folder);
  const fresh: LocalWorkerRecord = { backend, folder, name: made.name, workerId: made.workerId, token: made.token };
  // Saved before approval: a crash in between leaves a pending worker the next `up` approves,
  // never an orphan whose token is lost.
  await saveLocalWorker(fresh);
  await admin.approve(made.workerId);
  return { ...fresh, created: true };
}
