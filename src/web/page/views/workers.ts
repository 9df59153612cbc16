// The worker list: live state, heartbeat age, folder, host, models, and what a person can do.
import { h, type ComponentChild } from "preact";
import type { WorkerListEntry, WorkerSummary } from "../../../backend/api.ts";
import { api } from "../api.ts";
import { go } from "../route.ts";
import { formatAge, workerState } from "./format.ts";

export type Clock = { now: () => number };

/** Permission requests and questions waiting for a person. */
export function WaitingBadge({ w }: { w: WorkerListEntry }): ComponentChild {
  const n = w.pendingRequests;
  return n > 0 ? h("span", { class: "waiting", "data-pending": n, title: "permission requests or questions waiting for you" }, `${n} waiting`) : null;
}

export function StateBadge({ w }: { w: WorkerSummary }): ComponentChild {
  const s = workerState(w);
  return h("span", { class: `badge ${s.tone}`, "data-state": s.label }, s.label);
}

export function WorkerActions({ w, onError }: { w: WorkerSummary; onError: (m: string) => void }): ComponentChild {
  const act = (a: "approve" | "revoke" | "pause" | "resume") => (ev: Event) => {
    ev.stopPropagation();
    if (a === "revoke" && !confirm(`Revoke worker "${w.name}" for good? It will need a new token.`)) return;
    api.workerAction(w.workerId, a).catch((e: Error) => onError(e.message));
  };
  const buttons: ComponentChild[] = [];
  if (w.approval === "pending") buttons.push(h("button", { class: "primary", onClick: act("approve") }, "Approve"));
  if (w.approval === "approved") buttons.push(h("button", { onClick: act(w.paused ? "resume" : "pause") }, w.paused ? "Resume" : "Pause"));
  if (w.approval !== "revoked") buttons.push(h("button", { class: "danger", onClick: act("revoke") }, "Revoke"));
  return h("div", { class: "actions" }, buttons);
}

export function WorkerFacts({ w, clock }: { w: WorkerSummary; clock: Clock }): ComponentChild {
  const row = (k: string, v: string | null) => (v ? [h("dt", null, k), h("dd", { title: v }, v)] : []);
  const models = w.models.map((m) => m.name || `${m.providerId}/${m.modelId}`).join(", ");
  return h(
    "dl",
    { class: "facts" },
    ...row("heartbeat", w.lastHeartbeatAt === null ? "never" : formatAge(clock.now() - w.lastHeartbeatAt)),
    ...row("folder", w.directory),
    ...row("host", w.hostname ? `${w.hostname} (${w.machineName})` : w.machineName),
    ...row("tags", w.tags?.join(", ") || null),
    ...row("models", models || null),
    ...row("version", w.version),
  );
}

export function WorkerList(p: {
  workers: WorkerListEntry[];
  selected?: string;
  clock: Clock;
  onError: (m: string) => void;
}): ComponentChild {
  const cards = p.workers.map((w) =>
    h(
      "li",
      {
        key: w.workerId,
        class: `worker${w.workerId === p.selected ? " selected" : ""}`,
        "data-worker": w.name,
      },
      h(
        "a",
        { class: "worker-link", href: `#/w/${encodeURIComponent(w.workerId)}` },
        h("span", { class: "worker-name" }, w.name),
        h(WaitingBadge, { w }),
        h(StateBadge, { w }),
      ),
      h(WorkerFacts, { w, clock: p.clock }),
      h(WorkerActions, { w, onError: p.onError }),
    ),
  );
  return h(
    "nav",
    { class: "sidebar" },
    h("div", { class: "sidebar-head" }, h("h2", null, "Workers"), h("button", { onClick: () => go({ add: true }) }, "Add worker")),
    p.workers.length === 0 ? h("p", { class: "muted" }, "No workers yet. Add one to get a token.") : h("ul", { class: "workers" }, cards),
  );
}
