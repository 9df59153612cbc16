// How a worker ends: stopped by its owner, or failing on its own. Both take the one stop
// sequence below, run once however often it is asked for: running turns end first (they finish
// their messages), then the worker goes offline, then its resources are released in reverse.
import { backendErrorMessage } from "../backend/errors.ts";
import type { WorkerBackend } from "../backend/worker-client.ts";
import type { Logger } from "../util/log.ts";
import type { ResourceStack } from "../util/resources.ts";
import { failureText, REAUTH_HINT, WorkerFailure } from "./failure.ts";
import type { RequestDesk } from "./requests.ts";
import { ENDING, ONLINE, type ErrorClass, type StateMachine, type WorkerState } from "./state.ts";
import type { Turns } from "./turns.ts";

export type WorkerEnd = { state: "stopped"; after: WorkerState; errorClass?: ErrorClass; error?: string };

export type Ending = {
  /** The stop sequence; with `cancel`, running turns end `interrupted` with `reason`. Idempotent. */
  shutdown(o: { cancel?: boolean; reason?: string }): Promise<WorkerEnd>;
  /** The worker failed: it says why, gives up on its backend and stops. */
  fail(e: unknown): void;
  /** Resolves once the worker reached `stopped`. */
  readonly done: Promise<WorkerEnd>;
  readonly lastError: string | null;
  readonly errorClass: ErrorClass | null;
};

export function createEnding(o: {
  fsm: StateMachine;
  log: Logger;
  instanceId: string;
  requests: RequestDesk;
  turns: Turns;
  resources: ResourceStack;
  backend: () => WorkerBackend | null;
  /** Stops the heartbeat now, ahead of the other releases. */
  stopHeartbeat: () => void;
}): Ending {
  const { fsm, log, turns } = o;
  let lastError: string | null = null;
  let errorClass: ErrorClass | null = null;
  let ended: Promise<WorkerEnd> | null = null;
  let resolveDone!: (e: WorkerEnd) => void;
  const done = new Promise<WorkerEnd>((r) => (resolveDone = r));

  // A failed worker gives up on its backend at once: no more heartbeats, running turns are
  // interrupted without waiting for writes that cannot land, and it stops so its supervisor
  // can start a fresh one.
  function fail(e: unknown): void {
    if (fsm.in(ENDING)) return;
    const failure = e instanceof WorkerFailure ? e : new WorkerFailure(failureText(e), "transient");
    lastError = failure.message;
    errorClass = failure.errorClass;
    o.stopHeartbeat();
    if (failure.errorClass === "auth") fsm.go("needs_reauth", `${failure.message} — ${REAUTH_HINT}`);
    else fsm.go("errored", failure.message);
    turns.abandonBackend();
    void shutdown({ cancel: true, reason: `worker failed: ${failure.message}` });
  }

  function shutdown(s: { cancel?: boolean; reason?: string }): Promise<WorkerEnd> {
    // A turn waiting for a person would hold the stop up to the permission timeout.
    void o.requests.rejectAll(s.reason ?? "the worker is stopping");
    if (s.cancel) turns.interruptAll(s.reason ?? "the worker was stopped before the answer finished");
    if (ended) return ended;
    const after = fsm.state;
    // A failed worker shows why until its turns are over; any other goes `stopping` now.
    if (!fsm.in(["errored", "needs_reauth"])) fsm.go("stopping");
    ended = (async () => {
      // Let running turns end (they finish their messages) before going offline.
      await turns.settled();
      fsm.go("stopping");
      const backend = o.backend();
      if (backend && ONLINE.includes(after)) {
        await backend.goOffline(o.instanceId).catch((e) => log.warn("could not go offline", { error: backendErrorMessage(e) }));
      }
      await o.resources.releaseAll().catch((e) => log.warn("releasing resources failed", { error: failureText(e) }));
      fsm.go("stopped");
      const end: WorkerEnd = { state: "stopped", after, ...(errorClass ? { errorClass } : {}), ...(lastError ? { error: lastError } : {}) };
      resolveDone(end);
      return end;
    })();
    return ended;
  }

  return {
    shutdown,
    fail,
    done,
    get lastError() {
      return lastError;
    },
    get errorClass() {
      return errorClass;
    },
  };
}
