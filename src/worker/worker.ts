// One worker: one token, one folder, one backend. An object the manager starts and stops; it
// never exits the process. This file puts its parts together and boots it; the states are
// documented in state.ts, going online and staying there in online.ts, the way it ends (stop or
// failure) in ending.ts, work intake in intake.ts, people's decisions (approval, pause, drain)
// in control.ts, the parts that run prompts in work-parts.ts and the running turns in turns.ts.
import { randomBytes } from "node:crypto";
import type { PendingMessage, SelfView } from "../backend/api.ts";
import type { WorkerBackend } from "../backend/worker-client.ts";
import type { WorkerConfig } from "../config/types.ts";
import type { Logger } from "../util/log.ts";
import { resourceStack } from "../util/resources.ts";
import type { AgentHost } from "./agent-host.ts";
import type { ListModels, StartAgent } from "./agent-types.ts";
import { openAgentHost, openBackend } from "./connect.ts";
import { createControl } from "./control.ts";
import { daySpendBefore } from "./day-spend.ts";
import { createEnding, type WorkerEnd } from "./ending.ts";
import { toFailure as toFailureOf, WorkerFailure } from "./failure.ts";
import { createIntake } from "./intake.ts";
import { createOnline } from "./online.ts";
import { createRegistration } from "./registration.ts";
import { workerSnapshot, type WorkerSnapshot } from "./snapshot.ts";
import { takeoverCheck } from "./takeover.ts";
import { createStateMachine, ENDING, type ErrorClass, type StateChange, type WorkerState } from "./state.ts";
import { createWorkParts } from "./work-parts.ts";

export { emptyStats, type WorkerStats } from "./turns.ts";
export type { WorkerEnd } from "./ending.ts";
export type { WorkerSnapshot } from "./snapshot.ts";

export type WorkerOptions = {
  config: WorkerConfig;
  log: Logger;
  version: string;
  startAgent: StartAgent;
  /** Today's (UTC day) spend of this worker's earlier runs in this process, for max_daily_cost when the backend does not count it. */
  spentTodayBefore?: () => number;
  /** Lists the worker's models at start, before any OpenCode runs (absent: only when OpenCode starts). */
  listModels?: ListModels;
  onChange?: (c: StateChange) => void;
  /** Output batching window; small values only in tests. */
  relayWindowMs?: number;
  /** How long one backend call may take; small values only in tests. */
  callTimeoutMs?: number;
};

export type Worker = {
  readonly name: string;
  snapshot(): WorkerSnapshot;
  /** State and error class alone: cheap enough to ask of every worker on every change. */
  status(): { state: WorkerState; errorClass: ErrorClass | null };
  /** Stop taking new prompts; running turns finish. */
  drain(): void;
  /** Stop: with `cancel`, running turns end `interrupted` with `reason`. Idempotent. */
  stop(opts?: { cancel?: boolean; reason?: string }): Promise<WorkerEnd>;
  /** Resolves once the worker reached `stopped` (by stop() or by failing). */
  readonly done: Promise<WorkerEnd>;
};

export function startWorker(opts: WorkerOptions): Worker {
  const { config, log } = opts;
  const instanceId = randomBytes(9).toString("base64url");
  const resources = resourceStack(log);
  const fsm = createStateMachine(log, (c) => opts.onChange?.(c));
  let backend: WorkerBackend | null = null;
  const spentTodayBefore = daySpendBefore({ registered: () => registration.spentAtStart(), inProcess: opts.spentTodayBefore });
  const parts = createWorkParts({ config, log, instanceId, backend: () => backend, spentTodayBefore, relayWindowMs: opts.relayWindowMs });
  const { stats, scheduler, watchdog, requests, turns } = parts;
  let agents: AgentHost | null = null;

  const toFailure = (e: unknown, what: string) =>
    toFailureOf(e, what, { everConnected: backend?.connection().everConnected ?? false, convexUrl: config.convexUrl });
  // `online` is made below (it fails through `ending`); nothing can fail before it exists.
  const ending = createEnding({ fsm, log, instanceId, requests, turns, resources, backend: () => backend, stopHeartbeat: () => online.stopHeartbeat() });
  const { fail, shutdown } = ending;

  const onConflict = (e: unknown) => fail(toFailure(e, "claim"));
  const intake = createIntake({ fsm, log, instanceId, scheduler, turns, backend: () => backend!, run: runClaimed, onConflict });
  const goOnline = () => void registration.registerAgain(backend!);
  const beatNow = () => online.beatNow();
  const control = createControl({ fsm, log, turns, goOnline, beatNow, pump: intake.pump, fail, shutdown: () => void shutdown({}) });
  const online = createOnline({ fsm, log, config, instanceId, resources, stats, turns, control, intake, requests, backend: () => backend, fail, toFailure });
  const registration = createRegistration({ fsm, log, config, version: opts.version, instanceId, control, toFailure, fail, goReady: online.goReady });

  function runClaimed(msg: PendingMessage): void {
    turns.start(msg, {
      backend: backend!,
      agents: agents!,
      onEnded: () => {
        scheduler.done(msg);
        control.turnEnded();
      },
    });
    control.turnStarted();
  }

  async function boot(): Promise<void> {
    const b = openBackend({ config, log, resources, callTimeoutMs: opts.callTimeoutMs });
    backend = b;
    agents = openAgentHost({ config, log, resources, startAgent: opts.startAgent, listModels: opts.listModels, backend: b, stopping: () => fsm.in(ENDING) });
    resources.add("watchdog", watchdog.start({ onHungTurn: (id) => turns.interrupt(id, "the turn hung with no agent activity") }));
    await registration.register(b);
    const takeover = takeoverCheck(instanceId);
    const onSelf = (view: SelfView) => {
      const lost = takeover(view);
      return lost ? fail(lost) : control.onSelf(view);
    };
    resources.add("self subscription", b.watchSelf(onSelf, (e) => fail(toFailure(e, "watching own record"))));
  }

  /** Drain: no new prompts; running turns finish, and those waiting for a person get a rejection. */
  function drain(): void {
    control.drain();
    if (fsm.in(ENDING) || fsm.state === "draining") void requests.rejectAll("the worker is stopping");
  }

  function stop(o: { cancel?: boolean; reason?: string } = {}): Promise<WorkerEnd> {
    if (!o.cancel && fsm.state === "draining") return ending.done;
    if (!o.cancel && fsm.can("draining")) {
      drain();
      return ending.done;
    }
    return shutdown({ cancel: o.cancel ?? false, reason: o.reason });
  }

  // Deferred so the caller holds the handle before the first state change is reported.
  void Promise.resolve()
    .then(boot)
    .catch((e) => fail(e instanceof WorkerFailure ? e : toFailure(e, "start failed")));

  return {
    name: config.name,
    done: ending.done,
    drain,
    stop,
    status: () => ({ state: fsm.state, errorClass: ending.errorClass }),
    snapshot: () => workerSnapshot({ name: config.name, fsm, backend, agents, online, ending, turns, scheduler, control, stats }),
  };
}
