// What a worker shows of itself (status, metrics, the web page): read from its parts when
// asked, never kept as a copy that could drift from them.
import type { WorkerBackend } from "../backend/worker-client.ts";
import type { AgentHost } from "./agent-host.ts";
import type { Control } from "./control.ts";
import type { Ending } from "./ending.ts";
import type { Online } from "./online.ts";
import type { Scheduler } from "./scheduler.ts";
import type { ErrorClass, StateMachine, WorkerState } from "./state.ts";
import type { Turns, WorkerStats } from "./turns.ts";

export type WorkerSnapshot = {
  name: string;
  state: WorkerState;
  since: number;
  backendConnected: boolean;
  lastHeartbeatAt: number | null;
  turnsRunning: number;
  turnsQueued: number;
  lastError: string | null;
  errorClass: ErrorClass | null;
  opencodePid: number | null;
  approval: string | null;
  stats: WorkerStats;
};

export function workerSnapshot(p: {
  name: string;
  fsm: StateMachine;
  backend: WorkerBackend | null;
  agents: AgentHost | null;
  online: Online;
  ending: Ending;
  turns: Turns;
  scheduler: Scheduler;
  control: Control;
  stats: WorkerStats;
}): WorkerSnapshot {
  return {
    name: p.name,
    state: p.fsm.state,
    since: p.fsm.since,
    backendConnected: p.backend?.connection().connected ?? false,
    lastHeartbeatAt: p.online.lastHeartbeatAt,
    turnsRunning: p.turns.size,
    turnsQueued: p.scheduler.waiting,
    lastError: p.ending.lastError,
    errorClass: p.ending.errorClass,
    opencodePid: p.agents?.pid ?? null,
    approval: p.control.approval,
    stats: p.stats,
  };
}
