// Decides which pending message runs next: at most `maxSessions` sessions at once, the
// messages of one session strictly one after another in the order they were sent.
import type { PendingMessage } from "../backend/api.ts";

export type Scheduler = {
  /** Replace the view of queued messages with the backend's latest snapshot. */
  update(queued: PendingMessage[]): void;
  /** The next message to try, marking its session busy; null when nothing may start now. */
  next(): PendingMessage | null;
  /** A message is over (finished or lost its claim): free its session. */
  done(msg: PendingMessage): void;
  readonly activeSessions: number;
  readonly waiting: number;
};

export function createScheduler(maxSessions: number): Scheduler {
  let queued: PendingMessage[] = [];
  const active = new Set<string>();
  // Messages taken but possibly still listed by a stale snapshot: never offer them twice.
  const taken = new Set<string>();

  return {
    get activeSessions() {
      return active.size;
    },
    get waiting() {
      return queued.filter((m) => !taken.has(m.messageId)).length;
    },
    update(list) {
      queued = [...list].sort((a, b) => a.createdAt - b.createdAt);
      const listed = new Set(list.map((m) => m.messageId));
      for (const id of taken) if (!listed.has(id)) taken.delete(id);
    },
    next() {
      if (active.size >= maxSessions) return null;
      const blocked = new Set(active);
      for (const m of queued) {
        if (taken.has(m.messageId)) {
          blocked.add(m.sessionId);
          continue;
        }
        // The earliest untaken message of a session is its next one; later ones wait.
        if (blocked.has(m.sessionId)) continue;
        active.add(m.sessionId);
        taken.add(m.messageId);
        return m;
      }
      return null;
    },
    done(msg) {
      active.delete(msg.sessionId);
    },
  };
}
