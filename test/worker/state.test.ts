import { describe, expect, test } from "bun:test";
import { createStateMachine, IllegalTransitionError, WORKER_STATES, type WorkerState } from "../../src/worker/state.ts";
import { createLogger } from "../../src/util/log.ts";

describe("worker state machine", () => {
  const lines: string[] = [];
  const log = createLogger({ sink: (l) => lines.push(l), level: "debug" });

  test("illegal transitions throw; legal ones are logged with the reason", () => {
    const changes: string[] = [];
    const m = createStateMachine(log, (c) => changes.push(`${c.from}>${c.to}`));
    expect(() => m.go("busy")).toThrow(/illegal worker transition starting → busy/);
    m.go("registering");
    m.go("awaiting_approval", "waiting for approval");
    expect(changes).toEqual(["starting>registering", "registering>awaiting_approval"]);
    expect(lines.some((l) => l.includes("registering → awaiting_approval") && l.includes("waiting for approval"))).toBe(true);
  });

  test("an illegal transition is a typed error carrying both states, and changes nothing", () => {
    const m = createStateMachine(createLogger({ sink: () => {} }), () => {});
    let err: unknown;
    try {
      m.go("stopped");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IllegalTransitionError);
    expect(err).toMatchObject({ from: "starting", to: "stopped" });
    expect(m.state).toBe("starting");
  });

  test("every state has a path to stopped", () => {
    for (const start of WORKER_STATES) {
      const seen = new Set<WorkerState>();
      const walk = (s: WorkerState): boolean => {
        if (s === "stopped") return true;
        if (seen.has(s)) return false;
        seen.add(s);
        // Probe legal moves through the public API from a machine driven to `s`.
        return WORKER_STATES.some((to) => canMove(s, to) && walk(to));
      };
      expect(walk(start)).toBe(true);
    }
  });
});

function canMove(from: WorkerState, to: WorkerState): boolean {
  const log = createLogger({ sink: () => {} });
  const m = createStateMachine(log, () => {});
  const path: Record<WorkerState, WorkerState[]> = {
    starting: [],
    registering: ["registering"],
    awaiting_approval: ["registering", "awaiting_approval"],
    ready: ["registering", "ready"],
    busy: ["registering", "ready", "busy"],
    paused: ["registering", "ready", "paused"],
    draining: ["registering", "ready", "draining"],
    stopping: ["stopping"],
    stopped: ["stopping", "stopped"],
    errored: ["errored"],
    needs_reauth: ["needs_reauth"],
  };
  for (const s of path[from]) m.go(s);
  return m.can(to);
}
