// Registering with the backend: once at start (→ awaiting_approval, or online), and again
// after a person approves the worker, which is what marks the instance online.
import { hostname } from "node:os";
import type { DaySpend } from "../../convex/lib/spend.ts";
import type { WorkerBackend } from "../backend/worker-client.ts";
import type { WorkerConfig } from "../config/types.ts";
import type { Logger } from "../util/log.ts";
import type { Control } from "./control.ts";
import { approveHint, type WorkerFailure } from "./failure.ts";
import { ENDING, type StateMachine } from "./state.ts";

export type Registration = {
  /** First registration; throws a WorkerFailure when the backend refuses or cannot be reached. */
  register(b: WorkerBackend): Promise<void>;
  /** After approval: register again, then go online. */
  registerAgain(b: WorkerBackend): Promise<void>;
  /** The day's spend the backend had counted when this run first registered (absent: an older backend). */
  spentAtStart(): DaySpend | undefined;
};

export function createRegistration(o: {
  fsm: StateMachine;
  log: Logger;
  config: WorkerConfig;
  version: string;
  instanceId: string;
  control: Control;
  toFailure: (e: unknown, what: string) => WorkerFailure;
  fail: (e: unknown) => void;
  goReady: (b: WorkerBackend) => void;
}): Registration {
  const { fsm, log, config } = o;
  const info = () => ({ hostname: hostname(), version: o.version, directory: config.workingDirectory, pid: process.pid });
  // What routing by tags needs: the tags, and how many sessions this worker runs at once.
  const routing = { tags: config.tags ?? [], capacity: config.maxConcurrentSessions };
  let spent: DaySpend | undefined;
  return {
    spentAtStart: () => spent,
    async register(b) {
      if (fsm.in(ENDING)) return;
      fsm.go("registering");
      let res;
      try {
        res = await b.register(o.instanceId, info(), routing);
      } catch (e) {
        throw o.toFailure(e, "could not register");
      }
      spent = res.spentToday;
      if (fsm.in(ENDING)) return;
      o.control.setApproval(res.approval);
      if (res.recovered.requeued + res.recovered.interrupted > 0) log.info("recovered messages of an earlier run", res.recovered);
      if (res.approval === "pending") {
        fsm.go("awaiting_approval", "waiting for approval");
        log.warn(`worker "${config.name}" is waiting for approval — ${approveHint(res.workerName, config.token.workerId)}`);
        return;
      }
      o.goReady(b);
    },
    async registerAgain(b) {
      try {
        await b.register(o.instanceId, info(), routing);
      } catch (e) {
        return o.fail(o.toFailure(e, "could not go online"));
      }
      if (fsm.state === "registering") o.goReady(b);
    },
  };
}
