// Notices a worker that is alive but deaf: a backend connection that stays down, or a turn
// with no agent events for too long (a backstop behind the agent's own inactivity abort).
import type { ConnectionSnapshot } from "../backend/worker-client.ts";
import type { Logger } from "../util/log.ts";

export type Watchdog = {
  turnStarted(id: string): void;
  turnEnded(id: string): void;
  activity(id: string): void;
  /** Starts checking; returns the release function. */
  start(o: { connection: () => ConnectionSnapshot; onHungTurn: (id: string) => void; intervalMs?: number }): () => void;
  /** Seconds the backend connection has been down, 0 when up. */
  disconnectedForMs(): number;
};

/** Extra time the agent gets to abort a silent turn itself before the watchdog steps in. */
const HUNG_GRACE_MS = 30_000;
const DISCONNECT_WARN_MS = 30_000;

export function createWatchdog(o: { log: Logger; inactivityMs: number }): Watchdog {
  const lastActivity = new Map<string, number>();
  let downSince: number | null = null;
  let warnedAt = 0;
  return {
    turnStarted: (id) => void lastActivity.set(id, Date.now()),
    turnEnded: (id) => void lastActivity.delete(id),
    activity: (id) => {
      if (lastActivity.has(id)) lastActivity.set(id, Date.now());
    },
    disconnectedForMs: () => (downSince === null ? 0 : Date.now() - downSince),
    start({ connection, onHungTurn, intervalMs = 5_000 }) {
      const check = () => {
        const now = Date.now();
        const c = connection();
        if (c.everConnected && !c.connected) {
          downSince ??= now;
          if (now - downSince >= DISCONNECT_WARN_MS && now - warnedAt >= DISCONNECT_WARN_MS) {
            warnedAt = now;
            o.log.warn("backend unreachable; reconnecting", { downSeconds: Math.round((now - downSince) / 1000), retries: c.retries });
          }
        } else if (c.connected && downSince !== null) {
          o.log.info("backend connection restored", { downSeconds: Math.round((now - downSince) / 1000) });
          downSince = null;
        }
        for (const [id, at] of lastActivity) {
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
