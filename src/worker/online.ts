// Being online: from the move to `ready` on, the worker heartbeats and listens for pending
// work and for people's answers to its requests; each of those registers its release. Also the
// beat sent at once when what the backend should know changed (a pause, a drain).
import type { WorkerBackend } from "../backend/worker-client.ts";
import type { WorkerConfig } from "../config/types.ts";
import type { Logger } from "../util/log.ts";
import type { ResourceStack } from "../util/resources.ts";
import type { Control } from "./control.ts";
import type { WorkerFailure } from "./failure.ts";
import { startHeartbeat } from "./heartbeat.ts";
import type { Intake } from "./intake.ts";
import type { RequestDesk } from "./requests.ts";
import { ENDING, HOLDS_NEW_WORK, type StateMachine } from "./state.ts";
import type { Turns, WorkerStats } from "./turns.ts";

export type Online = {
  /** Registered and approved: go `ready`, start heartbeating and listening. */
  goReady(b: WorkerBackend): void;
  /** Tell the backend now (rather than at the next heartbeat) what the worker is doing. */
  beatNow(): void;
  /** Stops heartbeating ahead of the other releases (the worker failed). */
  stopHeartbeat(): void;
  readonly lastHeartbeatAt: number | null;
};

export function createOnline(o: {
  fsm: StateMachine;
  log: Logger;
  config: WorkerConfig;
  instanceId: string;
  resources: ResourceStack;
  stats: WorkerStats;
  turns: Turns;
  control: Control;
  intake: Intake;
  requests: RequestDesk;
  backend: () => WorkerBackend | null;
  fail: (e: unknown) => void;
  toFailure: (e: unknown, what: string) => WorkerFailure;
}): Online {
  const { fsm, log, config, control } = o;
  let lastHeartbeatAt: number | null = null;
  let stopHeartbeat: () => Promise<void> = async () => {};
  const draining = () => fsm.in(HOLDS_NEW_WORK);
  const failOn = (what: string) => (e: unknown) => o.fail(o.toFailure(e, what));

  function goReady(b: WorkerBackend): void {
    if (fsm.in(ENDING)) return;
    fsm.go("ready");
    log.info("online", { machineId: config.token.machineId, workerId: config.token.workerId });
    control.settleOnline();
    lastHeartbeatAt = Date.now(); // the register that led here recorded the worker's liveness
    const heartbeat = startHeartbeat({
      backend: b,
      instanceId: o.instanceId,
      intervalMs: config.heartbeatIntervalMs,
      log,
      draining,
      runningMessageIds: o.turns.ids,
      onBeat: (r) => {
        lastHeartbeatAt = r.at;
        control.setApproval(r.approval);
      },
      onFailedBeat: () => void o.stats.heartbeatsFailed++,
      onFatal: failOn("heartbeat"),
    });
    stopHeartbeat = o.resources.add("heartbeat", heartbeat);
    o.resources.add("pending-work subscription", b.watchPendingWork(o.intake.onPendingWork, failOn("pending work")));
    o.resources.add("answered-requests subscription", b.watchAnsweredRequests(o.requests.onAnswered, failOn("answered requests")));
  }

  return {
    goReady,
    beatNow: () => void o.backend()?.heartbeat(o.instanceId, draining(), o.turns.ids()).catch(() => undefined),
    stopHeartbeat: () => void stopHeartbeat(),
    get lastHeartbeatAt() {
      return lastHeartbeatAt;
    },
  };
}
