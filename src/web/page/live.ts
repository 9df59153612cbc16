// What the page shows live: one stream per open view (the worker list, the selected worker's
// sessions, the open session), reopened after the server closed it unless the login is gone.
import { useEffect, useRef, useState } from "preact/hooks";
import type { SessionSummary } from "../../backend/api.ts";
import { NotLoggedIn, api, openLive, type WorkersPayload } from "./api.ts";
import type { Route } from "./route.ts";
import { applyEvent, type SessionState } from "./session-state.ts";
import type { Clock } from "./views/workers.ts";

/** Wait before reopening a stream the server closed (restart, network). */
const REOPEN_MS = 2_000;

export type Live = {
  workers: WorkersPayload | null;
  session: SessionState;
  sessions: { worker: string; sessions: SessionSummary[] } | null;
  online: boolean;
  loggedOut: boolean;
  /** The server's clock: heartbeat ages are counted against it, not this machine's. */
  clock: Clock;
};

export function useLive(route: Route, setError: (m: string) => void): Live {
  const [workers, setWorkers] = useState<WorkersPayload | null>(null);
  const [session, setSession] = useState<SessionState>({ messages: [] });
  const [sessions, setSessions] = useState<{ worker: string; sessions: SessionSummary[] } | null>(null);
  const [online, setOnline] = useState(true);
  const [loggedOut, setLoggedOut] = useState(false);
  const [generation, setGeneration] = useState(0);
  const skew = useRef(0);
  const shownSession = useRef<string | undefined>(undefined);

  useEffect(() => {
    if (shownSession.current !== route.session) setSession({ messages: [] });
    shownSession.current = route.session;
    const { session: sid, worker } = route;
    const refetch = () => {
      if (sid && worker) api.messages(sid, worker).then((r) => setSession((s) => ({ ...s, messages: r.messages })), (e: Error) => setError(e.message));
    };
    let reopen: ReturnType<typeof setTimeout> | undefined;
    const close = openLive({ worker, session: worker ? sid : undefined }, {
      workers: (p) => {
        skew.current = p.now - Date.now();
        setWorkers(p);
      },
      session: (e) =>
        setSession((s) => {
          const next = applyEvent(s, e);
          if (next !== "refetch") return next;
          queueMicrotask(refetch);
          return s;
        }),
      sessions: setSessions,
      failure: setError,
      connected: setOnline,
      closed: () =>
        api.loggedIn().then(
          () => (reopen = setTimeout(() => setGeneration((g) => g + 1), REOPEN_MS)),
          (e: Error) => (e instanceof NotLoggedIn ? setLoggedOut(true) : (reopen = setTimeout(() => setGeneration((g) => g + 1), REOPEN_MS))),
        ),
    });
    return () => {
      clearTimeout(reopen);
      close();
    };
  }, [route.worker, route.session, generation]);

  return { workers, session, sessions, online, loggedOut, clock: { now: () => Date.now() + skew.current } };
}
