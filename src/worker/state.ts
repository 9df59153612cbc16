// The worker's explicit state machine. Transitions are guarded (an illegal one is a bug and
// throws) and logged; every state has a legal path to `stopped`.
import type { Logger } from "../util/log.ts";

export const WORKER_STATES = [
  "starting",
  "registering",
  "awaiting_approval",
  "ready",
  "busy",
  "paused",
  "draining",
  "stopping",
  "stopped",
  "errored",
  "needs_reauth",
] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

/** Why a worker errored: transient (retry), auth (new token needed), config (fix the config). */
export type ErrorClass = "transient" | "auth" | "config";

const TRANSITIONS: Record<WorkerState, readonly WorkerState[]> = {
  starting: ["registering", "errored", "needs_reauth", "stopping"],
  registering: ["awaiting_approval", "ready", "errored", "needs_reauth", "stopping"],
  awaiting_approval: ["registering", "ready", "errored", "needs_reauth", "stopping"],
  ready: ["busy", "paused", "draining", "errored", "needs_reauth", "stopping"],
  busy: ["ready", "paused", "draining", "errored", "needs_reauth", "stopping"],
  // Paused by a person: running answers finish, no new ones start, until resumed.
  paused: ["ready", "busy", "draining", "errored", "needs_reauth", "stopping"],
  draining: ["stopping", "errored", "needs_reauth"],
  stopping: ["stopped"],
  errored: ["stopping"],
  needs_reauth: ["stopping"],
  stopped: [],
};

export type StateChange = { from: WorkerState; to: WorkerState; at: number; reason?: string };

export type StateMachine = {
  readonly state: WorkerState;
  readonly since: number;
  can(to: WorkerState): boolean;
  /** Move to `to`; returns false (and does nothing) when already there. Throws on an illegal move. */
  go(to: WorkerState, reason?: string): boolean;
};

export function createStateMachine(log: Logger, onChange: (c: StateChange) => void): StateMachine {
  let state: WorkerState = "starting";
  let since = Date.now();
  return {
    get state() {
      return state;
    },
    get since() {
      return since;
    },
    can: (to) => TRANSITIONS[state].includes(to),
    go(to, reason) {
      if (to === state) return false;
      if (!TRANSITIONS[state].includes(to)) throw new Error(`illegal worker transition ${state} → ${to}`);
      const change: StateChange = { from: state, to, at: Date.now(), reason };
      state = to;
      since = change.at;
      const level = to === "errored" || to === "needs_reauth" ? "warn" : to === "busy" || to === "ready" ? "debug" : "info";
      log[level](`state ${change.from} → ${to}`, reason ? { reason } : undefined);
      onChange(change);
      return true;
    },
  };
}
