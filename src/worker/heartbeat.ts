// The worker's heartbeat: proves it is alive, renews the leases of its running messages and
// carries its draining flag. Failing heartbeats are how "alive but deaf" shows: after a few in
// a row the worker gives up its connection so the manager restarts it with a fresh one.
import { backendErrorMessage, classifyBackendError } from "../backend/errors.ts";
import type { WorkerBackend } from "../backend/worker-client.ts";
import type { Logger } from "../util/log.ts";
import { WorkerFailure } from "./failure.ts";

export const MAX_FAILED_HEARTBEATS = 3;

export type HeartbeatOptions = {
  backend: WorkerBackend;
  instanceId: string;
  intervalMs: number;
  log: Logger;
  /** The worker's current draining flag and running messages, read at each beat. */
  draining: () => boolean;
  runningMessageIds: () => string[];
  onBeat: (r: { at: number; approval: string }) => void;
  onFailedBeat: () => void;
  /** The worker must stop: token rejected, taken over, or too many failures. */
  onFatal: (e: unknown) => void;
};

/**
 * Beats every `intervalMs`, the first one interval from now: it starts right after a register,
 * which already recorded the worker's liveness (a beat at once would only repeat it, and at
 * start that is one more mutation per worker). Returns the release function.
 */
export function startHeartbeat(o: HeartbeatOptions): () => void {
  let consecutiveFailures = 0;
  const beat = async () => {
    try {
      const r = await o.backend.heartbeat(o.instanceId, o.draining(), o.runningMessageIds());
      consecutiveFailures = 0;
      o.onBeat({ at: Date.now(), approval: r.approval });
    } catch (e) {
      o.onFailedBeat();
      consecutiveFailures++;
      const kind = classifyBackendError(e);
      // conflict: another process registered with this token since this one did (onFatal's
      // mapping names it); a taken-over worker must stop, not retry.
      if (kind === "unauthorized" || kind === "revoked" || kind === "conflict") return o.onFatal(e);
      o.log.warn("heartbeat failed", { error: backendErrorMessage(e), consecutive: consecutiveFailures });
      if (consecutiveFailures >= MAX_FAILED_HEARTBEATS) {
        o.onFatal(new WorkerFailure(`${consecutiveFailures} heartbeats in a row failed`, "transient"));
      }
    }
  };
  const timer = setInterval(() => void beat(), o.intervalMs);
  return () => clearInterval(timer);
}
