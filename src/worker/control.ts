// What people decide about a worker while it runs: approval (awaiting_approval → online),
// pause / resume (admin pause), and drain (stop taking work, finish what runs, then stop).
// Each is a move of the state machine; the backend's view of the worker is the input.
import type { SelfView } from "../backend/api.ts";
import type { Logger } from "../util/log.ts";
import { WorkerFailure } from "./failure.ts";
import type { StateMachine } from "./state.ts";
import type { Turns } from "./turns.ts";

export type Control = {
  /** The backend's record of this worker changed. */
  onSelf(view: SelfView): void;
  /** The state to be in when going online: paused if a person paused it meanwhile. */
  settleOnline(): void;
  /** No new prompts; running ones finish; the worker stops when none are left. */
  drain(): void;
  /** A turn started: the worker is busy. */
  turnStarted(): void;
  /** A turn ended: the drain may be over, a resumed or ready worker may be busy no more. */
  turnEnded(): void;
  readonly approval: string | null;
  setApproval(a: string): void;
};

export function createControl(o: {
  fsm: StateMachine;
  log: Logger;
  turns: Turns;
  /** Register again so the backend marks this instance online. */
  goOnline: () => void;
  /** Tell the backend at once (rather than at the next heartbeat) what the worker is doing. */
  beatNow: () => void;
  pump: () => void;
  fail: (e: unknown) => void;
  /** Stop now: every turn is over, or there never was one. */
  shutdown: () => void;
}): Control {
  const { fsm, log, turns } = o;
  let approval: string | null = null;
  // The person's pause as last seen; applied when the worker can be paused (it may arrive
  // while it still awaits approval).
  let pauseRequested = false;

  function setBusy(): void {
    if (fsm.state === "ready" && turns.size > 0) fsm.go("busy");
    else if (fsm.state === "busy" && turns.size === 0) fsm.go("ready");
  }

  function applyPause(): void {
    if (pauseRequested && fsm.in(["ready", "busy"])) {
      fsm.go("paused", turns.size > 0 ? `paused by a person; finishing ${turns.size} turn(s)` : "paused by a person");
      o.beatNow();
    } else if (!pauseRequested && fsm.state === "paused") {
      log.info("resumed: taking prompts again");
      fsm.go(turns.size > 0 ? "busy" : "ready", "resumed");
      o.beatNow();
      o.pump();
    }
  }

  return {
    get approval() {
      return approval;
    },
    setApproval: (a) => void (approval = a),
    onSelf(view) {
      approval = view.approval;
      if (view.approval === "revoked") return o.fail(new WorkerFailure("this worker was revoked", "auth"));
      if (view.approval === "approved" && fsm.state === "awaiting_approval") {
        log.info("approved");
        fsm.go("registering", "approved");
        o.goOnline();
      }
      pauseRequested = view.drainRequested;
      applyPause();
    },
    settleOnline: applyPause,
    drain() {
      if (fsm.in(["ready", "busy", "paused"])) {
        fsm.go("draining", turns.size > 0 ? `waiting for ${turns.size} turn(s)` : undefined);
        o.beatNow();
        if (turns.size === 0) o.shutdown();
      } else if (fsm.in(["starting", "registering", "awaiting_approval"])) {
        o.shutdown();
      }
    },
    turnStarted: setBusy,
    turnEnded() {
      setBusy();
      o.pump();
      if (fsm.state === "draining" && turns.size === 0) o.shutdown();
    },
  };
}
