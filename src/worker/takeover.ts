// Noticing at once that another process took this worker over: the backend's record of the
// worker names the process that registered last, and the self subscription delivers every
// change. The CONFLICT a heartbeat or claim gets is the backstop (an older backend, a missed view).
import type { SelfView } from "../backend/api.ts";
import { takenOver, type WorkerFailure } from "./failure.ts";

/**
 * Returns a check of each view: the takeover failure once the record names another process.
 * Only after a view named this one: an earlier view can only be older than our registration,
 * and a restarted worker must not mistake its own previous instance for a rival.
 */
export function takeoverCheck(instanceId: string): (view: SelfView) => WorkerFailure | null {
  let sawOwn = false;
  return (view) => {
    const holder = view.holder;
    if (!holder) return null;
    if (holder.instanceId === instanceId) {
      sawOwn = true;
      return null;
    }
    return sawOwn ? takenOver(holder) : null;
  };
}
