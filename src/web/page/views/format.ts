import type { WorkerSummary } from "../../../backend/api.ts";

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** One word for what a worker is doing, as a person reads it. */
export function workerState(w: WorkerSummary): { label: string; tone: "ok" | "warn" | "bad" | "idle" } {
  if (w.approval === "revoked") return { label: "revoked", tone: "bad" };
  if (w.approval === "pending") return { label: "pending approval", tone: "warn" };
  // A paused worker reports itself draining (finishing what runs); to a person it is paused.
  if (w.paused) return { label: w.status === "offline" ? "paused, offline" : "paused", tone: "warn" };
  if (w.status === "online") return { label: "online", tone: "ok" };
  if (w.status === "draining") return { label: "draining", tone: "warn" };
  return { label: "offline", tone: "idle" };
}
