// The sessions this browser started, per worker, newest first. The backend has no query
// that lists a worker's sessions yet, so the page remembers the ones it created.
export type SavedSession = { id: string; title: string; at: number };

/** Sessions remembered per worker; older ones drop off. */
export const MAX_SAVED_SESSIONS = 50;

const key = (worker: string) => `oo.sessions.${worker}`;

export function savedSessions(worker: string): SavedSession[] {
  try {
    const list = JSON.parse(localStorage.getItem(key(worker)) ?? "[]") as SavedSession[];
    return Array.isArray(list) ? list.filter((s) => typeof s?.id === "string") : [];
  } catch {
    return [];
  }
}

export function saveSession(worker: string, s: SavedSession): void {
  const list = [s, ...savedSessions(worker).filter((x) => x.id !== s.id)].slice(0, MAX_SAVED_SESSIONS);
  localStorage.setItem(key(worker), JSON.stringify(list));
}
