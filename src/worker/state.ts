// The worker's state machine: the only record of where a worker is in its life. Every other
// part asks it (can I take work? must I heartbeat "draining"?) instead of keeping a flag of its
// own. Transitions are guarded (an illegal one is a bug and throws a typed error) and logged;
// every state has a legal path to `stopped`.
import type { Logger } from "../util/log.ts";

/** Every state, what it means, and what the worker does in it. */
export const STATE_DOCS = {
  starting: "connecting to the backend; nothing registered yet",
  registering: "telling the backend this instance exists (again after an approval, to go online)",
  awaiting_approval: "registered, waiting for a person to approve the worker; takes no work",
  ready: "online, heartbeating, takes prompts; none running",
  busy: "online, heartbeating, takes prompts; at least one running",
  paused: "held by a person (admin pause): running prompts finish, queued ones wait for resume",
  draining: "stop requested: running prompts finish, no new ones; stops when none are left",
  stopping: "no new work; running prompts end, the worker goes offline and releases its resources",
  stopped: "everything released; the end",
  errored:
    "failed (backend unreachable, taken over, …): running prompts are interrupted, then it stops; its supervisor may start a new one — after a transient failure only, never after a takeover (error class taken_over: another process registered the same token and is the worker now)",
  needs_reauth: "the backend rejected or revoked the token; nothing but a new token helps, then it stops",
} as const;

export type WorkerState = keyof typeof STATE_DOCS;
export const WORKER_STATES = Object.keys(STATE_DOCS) as WorkerState[];

/**
 * Why a worker errored: transient (retry), auth (new token needed), config (fix the config),
 * taken_over (another process registered with the same token and now is the worker; retrying
 * would take it back and the two would knock each other out for ever).
 */
export type ErrorClass = "transient" | "auth" | "config" | "taken_over";

const TRANSITIONS: Record<WorkerState, readonly WorkerState[]> = {
  starting: ["registering", "errored", "needs_reauth", "stopping"],
  registering: ["awaiting_approval", "ready", "errored", "needs_reauth", "stopping"],
  awaiting_approval: ["registering", "ready", "errored", "needs_reauth", "stopping"],
  ready: ["busy", "paused", "draining", "errored", "needs_reauth", "stopping"],
  busy: ["ready", "paused", "draining", "errored", "needs_reauth", "stopping"],
  paused: ["ready", "busy", "draining", "errored", "needs_reauth", "stopping"],
  draining: ["stopping", "errored", "needs_reauth"],
  stopping: ["stopped"],
  errored: ["stopping"],
  needs_reauth: ["stopping"],
  stopped: [],
};

/** States in which new prompts are claimed and started. */
export const TAKES_WORK: readonly WorkerState[] = ["ready", "busy"];
/** States in which the worker is online in the backend (it registered and heartbeats). */
export const ONLINE: readonly WorkerState[] = ["ready", "busy", "paused", "draining"];
/** States in which a prompt claimed a moment ago may still run (a pause holds only new ones). */
export const RUNS_CLAIMED: readonly WorkerState[] = ["ready", "busy", "paused"];
/** Online states that take no new prompts: the heartbeat reports them as draining. */
export const HOLDS_NEW_WORK: readonly WorkerState[] = ["paused", "draining", "stopping"];
/** States on the way out: the worker will not go online or take work again. */
export const ENDING: readonly WorkerState[] = ["stopping", "stopped", "errored", "needs_reauth"];

/** A transition the table does not allow: a bug in the worker, never a user error. */
export class IllegalTransitionError extends Error {
  readonly from: WorkerState;
  readonly to: WorkerState;
  constructor(from: WorkerState, to: WorkerState) {
    super(`illegal worker transition ${from} → ${to}`);
    this.name = "IllegalTransitionError";
    this.from = from;
    this.to = to;
  }
}

export type StateChange = { from: WorkerState; to: WorkerState; at: number; reason?: string };

export type StateMachine = {
  readonly state: WorkerState;
  readonly since: number;
  can(to: WorkerState): boolean;
  /** The current state is one of `states`. */
  in(states: readonly WorkerState[]): boolean;
  /** Move to `to`; returns false (and does nothing) when already there. Throws IllegalTransitionError. */
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
    in: (states) => states.includes(state),
    go(to, reason) {
      if (to === state) return false;
      if (!TRANSITIONS[state].includes(to)) throw new IllegalTransitionError(state, to);
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
