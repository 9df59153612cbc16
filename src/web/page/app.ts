// The page: the route, the live view of it (live.ts), the worker list, and the selected
// worker's chat.
import { h, type ComponentChild } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { WorkerListEntry } from "../../backend/api.ts";
import { useLive, type Live } from "./live.ts";
import { parseRoute, type Route } from "./route.ts";
import { AddWorker } from "./views/add-worker.ts";
import { WorkerPanel } from "./views/worker-panel.ts";
import { WorkerList } from "./views/workers.ts";

export function App(): ComponentChild {
  const [route, setRoute] = useState(parseRoute(location.hash));
  const [error, setError] = useState<string | null>(null);
  const [, setTick] = useState(0);

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

  const live = useLive(route, setError);
  if (live.loggedOut) return h(LoginNotice, null);
  const { online, clock } = live;
  const list = live.workers?.workers ?? [];
  const selected = route.worker ? list.find((w) => w.workerId === route.worker || w.name === route.worker) : undefined;

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
    h("div", { class: "body" }, h(WorkerList, { workers: list, selected: selected?.workerId, clock, onError: setError }), h("main", { class: "main" }, mainPane(route, live, selected, setError))),
  );
}

/** What the main pane shows for the route: adding a worker, the selected worker, or a hint. */
function mainPane(route: Route, live: Live, selected: WorkerListEntry | undefined, setError: (m: string) => void): ComponentChild {
  const { workers, sessions, session, clock } = live;
  if (route.add) return h(AddWorker, { onError: setError });
  if (selected) {
    const list = sessions && (sessions.worker === selected.workerId || sessions.worker === selected.name) ? sessions.sessions : null;
    return h(WorkerPanel, { w: selected, session: route.session, sessions: list, state: session, clock, onError: setError });
  }
  if (route.worker && workers) return h("p", { class: "muted panel" }, `No worker "${route.worker}".`);
  return h("p", { class: "muted panel hint" }, workers ? "Pick a worker to see its sessions and chat." : "Loading…");
}

/** The page's own login is gone: only the link a start prints logs in again. */
function LoginNotice(): ComponentChild {
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
