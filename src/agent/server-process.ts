// The `opencode serve` process of one AgentServer, from spawn to exit: it is tracked (for
// leftovers after a crash), its exit fails the turns it ran, and its stop reaches the whole tree —
// gently first, for sure at the end. Every process of that tree carries a marker variable, which
// also finds the ones that left the process group.
import type { OpencodeClient } from "@opencode-ai/sdk/v2/client";
import { trackChild } from "../util/children.ts";
import type { Logger } from "../util/log.ts";
import { groupExists, processesWithEnv, signalGroup, terminateGroup, terminatePids } from "../util/process-group.ts";
import { AGENT_MARKER_VAR } from "./env.ts";
import type { EventStream } from "./events.ts";
import { removeAgentRecord, writeAgentRecord } from "./leftovers.ts";
import { describeExit, type AgentExit } from "./readiness.ts";
import type { SpawnedServer } from "./spawn.ts";
import type { TurnHandle } from "./turn.ts";

const DEFAULT_STOP_MS = 10_000;

export type ServerProcess = {
  pid: number;
  /** The marker variable's value in every process of this server's tree. */
  marker: string;
  log: Logger;
  exitInfo: AgentExit | null;
  stopping: boolean;
  /** Running turns by OpenCode session id. */
  turns: Map<string, TurnHandle>;
  events: EventStream | null;
  /** Set once the server serves (requests on the event stream are refused through it). */
  client: OpencodeClient | null;
  untrack: () => void;
  /** Its password leaves the redaction set once the process is gone. */
  forgetSecrets: () => void;
  /** Resolves when the process exits, whoever caused it. */
  exited: Promise<AgentExit>;
  stopPromise: Promise<void> | null;
};

/** Tracks a freshly spawned server: the leftovers record, the child registry, its exit. */
export function trackServer(
  spawned: SpawnedServer,
  o: { directory: string; command: string; log: Logger; marker: string; startedAt: number; forgetSecrets: () => void },
): ServerProcess {
  const { child, pid } = spawned;
  const { directory, command, log, marker } = o;
  const untrack = trackChild(pid, { group: true, label: `opencode serve (${directory})` });
  writeAgentRecord({ pid, marker, ownerPid: process.pid, directory, command, startedAt: new Date(o.startedAt).toISOString() });
  log.debug("OpenCode starting", { pid, directory, command });
  const proc: ServerProcess = {
    pid,
    marker,
    log,
    exitInfo: null,
    stopping: false,
    turns: new Map(),
    events: null,
    client: null,
    untrack,
    forgetSecrets: o.forgetSecrets,
    exited: new Promise<AgentExit>((res) => {
      child.once("exit", (code, signal) => res(onExit(proc, { code, signal })));
    }),
    stopPromise: null,
  };
  return proc;
}

function onExit(proc: ServerProcess, exitInfo: AgentExit): AgentExit {
  const { pid, log } = proc;
  proc.exitInfo = exitInfo;
  proc.events?.close();
  removeAgentRecord(pid);
  if (!proc.stopping) {
    log.warn("OpenCode exited unexpectedly", { pid, how: describeExit(exitInfo) });
    // Tools it started (shells, language servers) would outlive it otherwise.
    if (groupExists(pid)) signalGroup(pid, "SIGKILL");
    killStrays(proc.marker);
    proc.untrack();
  }
  // A stop keeps it registered until the rest of its group is gone too (stopServer): an exit
  // meanwhile must still reach bwrap's namespace init, which can outlive bwrap.
  // Its password cannot reach anyone any more; the redaction set stays as small as what runs.
  proc.forgetSecrets();
  const reason = goneReason(proc)!;
  for (const t of [...proc.turns.values()]) t.serverGone(reason);
  return exitInfo;
}

function killStrays(marker: string): void {
  for (const p of processesWithEnv(AGENT_MARKER_VAR, marker)) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** Why the server cannot run turns any more, or null while it can. */
export function goneReason(proc: ServerProcess): string | null {
  const { exitInfo, stopping } = proc;
  if (exitInfo) return stopping ? "OpenCode was stopped" : `OpenCode exited unexpectedly (${describeExit(exitInfo)})`;
  if (stopping) return "OpenCode is stopping";
  return null;
}

/** Idempotent: SIGTERM the group, SIGTERM again, SIGKILL after `timeoutMs` (default 10 s). */
export function stopServer(proc: ServerProcess, o: { timeoutMs?: number } = {}): Promise<void> {
  proc.stopPromise ??= (async () => {
    const { pid, log } = proc;
    const t0 = Date.now();
    proc.stopping = true;
    proc.events?.close();
    const last = await terminateGroup(pid, { gone: () => proc.exitInfo !== null, timeoutMs: o.timeoutMs ?? DEFAULT_STOP_MS });
    await proc.exited;
    // Shell tools run in sessions of their own, out of the group's reach; our marker finds them.
    const strays = processesWithEnv(AGENT_MARKER_VAR, proc.marker);
    if (strays.length) {
      log.debug("stopping processes OpenCode's tools left running", { pids: strays.join(",") });
      await terminatePids(strays);
    }
    proc.untrack();
    removeAgentRecord(pid);
    log.debug("OpenCode stopped", { pid, ms: Date.now() - t0, signal: last });
  })();
  return proc.stopPromise;
}
