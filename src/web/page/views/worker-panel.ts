// The selected worker: its state and actions, its sessions, and the open chat.
import { h, type ComponentChild } from "preact";
import type { SessionSummary, WorkerSummary } from "../../../backend/api.ts";
import type { SessionState } from "../session-state.ts";
import { Chat } from "./chat.ts";
import { StateBadge, WorkerActions, WorkerFacts, type Clock } from "./workers.ts";

export function WorkerPanel(p: {
  w: WorkerSummary;
  session?: string;
  /** The worker's sessions, most recently used first; null until the first update. */
  sessions: SessionSummary[] | null;
  state: SessionState;
  clock: Clock;
  onError: (m: string) => void;
}): ComponentChild {
  const sessions = p.sessions ?? [];
  const base = `#/w/${encodeURIComponent(p.w.workerId)}`;
  return h(
    "div",
    { class: "worker-panel" },
    h(
      "header",
      { class: "panel worker-head" },
      h("a", { class: "back", href: "#/" }, "← Workers"),
      h("h2", null, p.w.name, " ", h(StateBadge, { w: p.w })),
      h(WorkerFacts, { w: p.w, clock: p.clock }),
      h(WorkerActions, { w: p.w, onError: p.onError }),
    ),
    h(
      "div",
      { class: "sessions" },
      h("a", { class: `session new${p.session ? "" : " current"}`, href: base }, "+ New session"),
      sessions.map((s) =>
        h(
          "a",
          {
            key: s.sessionId,
            class: `session${s.sessionId === p.session ? " current" : ""}`,
            href: `${base}/s/${encodeURIComponent(s.sessionId)}`,
            title: `${s.title} (${new Date(s.lastActivityAt).toLocaleString()})`,
            "data-session": s.sessionId,
          },
          s.title,
        ),
      ),
    ),
    h(Chat, { worker: p.w, session: p.session, state: p.state, canSend: p.w.approval !== "revoked", onError: p.onError }),
  );
}
