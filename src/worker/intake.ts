// Intake of pending work: the backend's list of queued messages and cancel requests comes in,
// the scheduler picks what may start, and each pick is claimed before it runs. Whether work is
// taken at all is the state machine's call, asked at every step.
import type { PendingMessage, PendingWork } from "../backend/api.ts";
import { backendErrorMessage, classifyBackendError } from "../backend/errors.ts";
import type { WorkerBackend } from "../backend/worker-client.ts";
import type { Logger } from "../util/log.ts";
import type { Scheduler } from "./scheduler.ts";
import { RUNS_CLAIMED, TAKES_WORK, type StateMachine } from "./state.ts";
import type { Turns } from "./turns.ts";

export type Intake = {
  /** The backend's latest pending work. */
  onPendingWork(work: PendingWork): void;
  /** Start whatever may start now. */
  pump(): void;
};

export function createIntake(o: {
  fsm: StateMachine;
  log: Logger;
  instanceId: string;
  scheduler: Scheduler;
  turns: Turns;
  backend: () => WorkerBackend;
  /** A claimed message starts running. */
  run: (msg: PendingMessage) => void;
  /** A claim refused with CONFLICT: another process registered this worker since (taken over). */
  onConflict: (e: unknown) => void;
}): Intake {
  const { fsm, log, scheduler } = o;

  async function take(msg: PendingMessage): Promise<void> {
    const b = o.backend();
    // The session stays taken in the scheduler from here until this message is over: freeing it
    // any earlier lets the session's next message start beside this one.
    try {
      const claim = await b.claim(o.instanceId, msg.messageId);
      if (!claim.claimed) {
        log.debug("claim lost", { messageId: msg.messageId, reason: claim.reason });
        scheduler.done(msg);
        return;
      }
    } catch (e) {
      scheduler.done(msg);
      if (classifyBackendError(e) === "conflict") return o.onConflict(e);
      log.warn("claim failed", { messageId: msg.messageId, error: backendErrorMessage(e) });
      return;
    }
    if (!fsm.in(RUNS_CLAIMED)) {
      // Claimed just as we began to stop: hand it back as interrupted rather than leave it running.
      scheduler.done(msg);
      await b.finish(o.instanceId, msg.messageId, "interrupted", "the worker was shutting down").catch(() => undefined);
      return;
    }
    o.run(msg);
  }

  function pump(): void {
    if (!fsm.in(TAKES_WORK)) return;
    for (let msg = scheduler.next(); msg; msg = scheduler.next()) void take(msg);
  }

  return {
    pump,
    onPendingWork(work) {
      scheduler.update(work.queued);
      for (const id of work.cancelRequested) o.turns.cancel(id);
      pump();
    },
  };
}
