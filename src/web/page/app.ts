// The page: one live stream per open view, the worker list, and the selected worker's chat.
import { h, type ComponentChild } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { SessionSummary } from "../../backend/api.ts";
import { NotLoggedIn, api, openLive, type WorkersPayload } from "./api.ts";
import { parseRoute } from "./route.ts";
import { applyEvent, type SessionState } from "./session-state.ts";
import { AddWorker } from "./views/add-worker.ts";
import { WorkerPanel } from "./views/worker-panel.ts";
import { WorkerList } from "./views/workers.ts";

/** Wait before reopening a stream the server closed (restart, network). */
const REOPEN_MS = 2_000;

export function App(): ComponentChild {
  const [route, setRoute] = useState(parseRoute(location.hash));
  const [workers, setWorkers] = useState<WorkersPayload | null>(null);
  const [session, setSession] = useState<SessionState>({ messages: [] });
  const [sessions, setSessions] = useState<{ worker: string; sessions: SessionSummary[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [online, setOnline] = useState(true);
  const [loggedOut, setLoggedOut] = useState(false);
  const [generation, setGeneration] = useState(0);
  const [, setTick] = useState(0);
  const skew = useRef(0);
  const shownSession = useRef<string | undefined>(undefined);

  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onHash);
    // Heartbeat ages count up between updates.
    const timer = setInterval(() => setTick((t) => t + 1), 1_000);
    return () => {
      removeEventListener("hashchange", onHash);
      clearInterval(timer);
    };
  }, []);

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

  if (loggedOut) {
    return h(
      "main",
      { class: "login" },
      h("h1", null, "opencode-orchestrator"),
      h(
        "p",
        null,
        "Not logged in. Open the link that ",
        h("code", null, "opencode-orchestrator up"),
        " (or ",
        h("code", null, "web"),
        ") printed in its terminal: it carries the login token, and each start prints a new one.",
      ),
    );
  }
  const clock = { now: () => Date.now() + skew.current };
  const list = workers?.workers ?? [];
  const selected = route.worker ? list.find((w) => w.workerId === route.worker || w.name === route.worker) : undefined;
  let main: ComponentChild;
  if (route.add) main = h(AddWorker, { onError: setError });
  else if (selected) {
    const list = sessions && (sessions.worker === selected.workerId || sessions.worker === selected.name) ? sessions.sessions : null;
    main = h(WorkerPanel, { w: selected, session: route.session, sessions: list, state: session, clock, onError: setError });
  }
  else if (route.worker && workers) main = h("p", { class: "muted panel" }, `No worker "${route.worker}".`);
  else main = h("p", { class: "muted panel hint" }, workers ? "Pick a worker to see its sessions and chat." : "Loading…");

  return h(
    "div",
    { class: `app${route.worker || route.add ? " focused" : ""}` },
    h(
      "header",
      { class: "top" },
      h("a", { class: "brand", href: "#/" }, "opencode-orchestrator"),
      h("span", { class: `conn ${online ? "up" : "down"}`, title: online ? "live" : "reconnecting" }, online ? "live" : "reconnecting…"),
    ),
    error
      ? h("div", { class: "error", role: "alert" }, error, h("button", { class: "close", onClick: () => setError(null), "aria-label": "Dismiss" }, "×"))
      : null,
    h("div", { class: "body" }, h(WorkerList, { workers: list, selected: selected?.workerId, clock, onError: setError }), h("main", { class: "main" }, main)),
  );
}
