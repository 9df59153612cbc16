// Why a worker stops on its own, and what the person should do about it. Backend errors are
// classified once here, so every call site reacts the same way to the same failure.
import { ConvexError } from "convex/values";
import { backendErrorMessage, classifyBackendError } from "../backend/errors.ts";
import type { ErrorClass } from "./state.ts";
import { safeLine } from "../util/terminal-text.ts";

export class WorkerFailure extends Error {
  /** "auth": the token is rejected or revoked; nothing but a new token helps (state needs_reauth). */
  readonly errorClass: ErrorClass;
  constructor(message: string, errorClass: ErrorClass) {
    super(message);
    this.errorClass = errorClass;
  }
}

/** Names the worker as `admin add-worker` and the README do; the id helps where names were reused. */
export const approveHint = (name: string, workerId: string) =>
  `approve it with: opencode-orchestrator admin approve ${safeLine(name)} (id ${workerId})`;
export const REAUTH_HINT = "get a new token with `opencode-orchestrator admin add-worker`, put it in the config, then approve it";

/** The process that registered the worker last, as the backend knows it (host and pid may be unknown). */
export type Holder = { hostname?: string; pid?: number | null };

export const TAKEOVER_FIX = "stop the other process and restart this one (orchestrate: reload it, e.g. SIGHUP), or give this one its own token";

/**
 * This process lost the worker to a newer one holding the same token. Final (not retried): a
 * restart would register again, take the worker back, and the two would fight for ever.
 */
export function takenOver(h: Holder): WorkerFailure {
  const where = [h.pid ? `pid ${h.pid}` : "", h.hostname ? `on ${safeLine(h.hostname)}` : ""].filter(Boolean).join(" ");
  return new WorkerFailure(`taken over: another process${where ? ` (${where})` : ""} registered with this worker's token — ${TAKEOVER_FIX}`, "taken_over");
}

/** The backend's CONFLICT for a process that is no longer the worker's current one, with the holder it names. */
function takeoverHolder(e: unknown): Holder | null {
  if (!(e instanceof ConvexError) || typeof e.data !== "object" || e.data === null || !("takenOver" in e.data)) return null;
  const d = e.data as { hostname?: unknown; pid?: unknown };
  return { hostname: typeof d.hostname === "string" ? d.hostname : undefined, pid: typeof d.pid === "number" ? d.pid : undefined };
}

/** Maps a failed backend call (`what` names it) to a worker failure. */
export function toFailure(e: unknown, what: string, o: { everConnected: boolean; convexUrl: string }): WorkerFailure {
  if (e instanceof WorkerFailure) return e;
  const kind = classifyBackendError(e);
  const holder = kind === "conflict" ? takeoverHolder(e) : null;
  if (holder) return takenOver(holder);
  if (kind === "unauthorized") return new WorkerFailure(`the backend rejected this worker's token (${what})`, "auth");
  if (kind === "revoked") return new WorkerFailure("this worker was revoked", "auth");
  // A timeout before the first connection is a wrong URL or a backend that is not running.
  if (kind === "timeout" && !o.everConnected) return new WorkerFailure(`${what}: cannot reach the backend at ${o.convexUrl}`, "transient");
  return new WorkerFailure(`${what}: ${backendErrorMessage(e)}`, "transient");
}

/** Text for any error: the backend's own message where there is one. */
export function failureText(e: unknown): string {
  if (e instanceof WorkerFailure) return e.message;
  return backendErrorMessage(e);
}
