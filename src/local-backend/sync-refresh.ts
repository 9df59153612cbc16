// When a sync connection sends its Transitions. The client rejects a Transition that does not
// start exactly at its version, so every Transition of a connection comes from one serial
// queue; a task that fails leaves the client's version possibly out of step with ours, so the
// connection must start over (`failed`).
import type { Engine, Watch } from "./engine.ts";
import { applyModifications, type Modification, type Subscription } from "./sync-queries.ts";
import { buildTransition, type Change, type TransitionState } from "./sync-transition.ts";

export type RefreshDeps = {
  state: TransitionState;
  engine: Engine;
  send(message: object): void;
  /** Opens the engine watch of a newly added query. */
  watch(q: Subscription): Watch;
  /** A queued task threw: the connection is closed so the client reconnects. */
  failed(e: unknown): void;
};

export type Refresher = {
  /** Queue a Transition re-running the dirty queries; `force` sends one even if none changed. */
  refresh(force: boolean): void;
  /** Queue a Transition for `change` behind the ones already queued. */
  queue(change: Change): void;
  /** The client's query set version after the changes accepted so far. */
  querySetVersion(): number;
  /** Accept a ModifyQuerySet that starts at `querySetVersion()`. */
  modify(newVersion: number, mods: readonly Modification[]): void;
  dispose(): void;
};

export function createRefresher(deps: RefreshDeps): Refresher {
  const { state, engine } = deps;
  let refreshQueued = false;
  let forceQueued = false;
  // Query set changes not yet in a Transition, and the client's query set version after them.
  // They ride in the next Transition, however many arrived: the client only checks that a
  // Transition starts where the last one ended, so one Transition may cover several changes.
  let queuedMods: Modification[] = [];
  let acceptedQuerySet = 0;
  // Changes arriving together (a worker subscribes to two queries at once) wait for the end
  // of this turn, so they share one Transition.
  let modsTimer: ReturnType<typeof setImmediate> | undefined;
  const enqueue = serialQueue(() => state.closed, deps.failed);

  // Refreshes asked for while one is queued fold into it (forced if any of them was), and so
  // do the query set changes that arrived meanwhile.
  function refresh(force: boolean): void {
    if (force) forceQueued = true;
    if (refreshQueued) return;
    refreshQueued = true;
    enqueue(async () => {
      refreshQueued = false;
      const f = forceQueued;
      forceQueued = false;
      const mods = queuedMods;
      queuedMods = [];
      const { added, removed } = applyModifications(state.queries, mods, deps.watch);
      await transition({ querySet: acceptedQuerySet, added, removed, force: f });
    });
  }

  async function transition(change: Change): Promise<void> {
    const { message, again } = await buildTransition(state, engine, change);
    if (again) refresh(false);
    if (message) deps.send(message);
  }

  // A change with nothing in it (a fresh connection's first message) only moves the version:
  // it waits for the next Transition instead of costing one of its own.
  function modify(newVersion: number, mods: readonly Modification[]): void {
    acceptedQuerySet = newVersion;
    queuedMods.push(...mods);
    if (mods.length > 0) {
      modsTimer ??= setImmediate(() => {
        modsTimer = undefined;
        refresh(true);
      });
    }
  }

  // Commits landing while queries run are checked against their new reads afterwards.
  const unsubscribe = engine.onCommit((_origin, commit) => {
    if (!state.closed && state.inTransition && commit) state.commitsDuring.push(commit);
  });

  function dispose(): void {
    if (modsTimer) clearImmediate(modsTimer);
    unsubscribe();
  }

  return { refresh, queue: (change) => enqueue(() => transition(change)), querySetVersion: () => acceptedQuerySet, modify, dispose };
}

/** Run tasks one after another; skipped once `stopped()`, failures go to `failed`. */
function serialQueue(stopped: () => boolean, failed: (e: unknown) => void): (task: () => Promise<void>) => void {
  let tail: Promise<void> = Promise.resolve();
  return (task) => {
    tail = tail.then(() => (stopped() ? undefined : task())).catch(failed);
  };
}
