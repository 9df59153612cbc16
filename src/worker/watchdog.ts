// Notices a turn that is alive but deaf: no agent events for too long (a backstop behind the
// agent's own inactivity abort). A lost backend connection is reported by connection.ts.
import type { Logger } from "../util/log.ts";

export type Watchdog = {
  turnStarted(id: string): void;
  turnEnded(id: string): void;
  activity(id: string): void;
  /** The turn waits for a person (a permission request): not hung while held; returns the release. */
  hold(id: string): () => void;
  /** Starts checking; returns the release function. */
  start(o: { onHungTurn: (id: string) => void; intervalMs?: number }): () => void;
};

/** Extra time the agent gets to abort a silent turn itself before the watchdog steps in. */
const HUNG_GRACE_MS = 30_000;

export function createWatchdog(o: { log: Logger; inactivityMs: number }): Watchdog {
  const lastActivity = new Map<string, number>();
  const holds = new Map<string, number>();
  return {
    turnStarted: (id) => void lastActivity.set(id, Date.now()),
    turnEnded: (id) => void lastActivity.delete(id),
    activity: (id) => {
      if (lastActivity.has(id)) lastActivity.set(id, Date.now());
    },
    hold(id) {
      holds.set(id, (holds.get(id) ?? 0) + 1);
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        const left = (holds.get(id) ?? 1) - 1;
        if (left > 0) holds.set(id, left);
        else holds.delete(id);
        // The silence while it waited does not count against it.
        if (lastActivity.has(id)) lastActivity.set(id, Date.now());
      };
    },
    start({ onHungTurn, intervalMs = 5_000 }) {
      const check = () => {
        const now = Date.now();
        for (const [id, at] of lastActivity) {
          if (holds.has(id)) continue;
          if (now - at > o.inactivityMs + HUNG_GRACE_MS) {
            o.log.warn("turn hung with no agent activity; aborting it", { messageId: id, silentSeconds: Math.round((now - at) / 1000) });
            lastActivity.set(id, now);
            onHungTurn(id);
          }
        }
      };
      const timer = setInterval(check, intervalMs);
      timer.unref?.();
      return () => clearInterval(timer);
    },
  };
}
