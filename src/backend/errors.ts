// Recognises the backend's error codes (carried in ConvexError data) so callers can react
// to the kind of failure instead of parsing message text.
import { ConvexError } from "convex/values";
import { BACKEND_ERRORS } from "./api.ts";
import { errorMessage } from "../util/errors.ts";

export type BackendErrorKind =
  | "unauthorized"
  | "revoked"
  | "conflict"
  | "not_found"
  | "invalid"
  | "wrong_worker"
  | "timeout"
  | "transient";

export class BackendTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`${what} got no answer from the backend within ${Math.round(ms / 1000)} s`);
    this.name = "BackendTimeout";
  }
}

export function backendErrorCode(e: unknown): string | undefined {
  if (e instanceof ConvexError && e.data && typeof e.data === "object" && "code" in e.data) {
    return String((e.data as { code: unknown }).code);
  }
  return undefined;
}

export function classifyBackendError(e: unknown): BackendErrorKind {
  if (e instanceof BackendTimeout) return "timeout";
  switch (backendErrorCode(e)) {
    case BACKEND_ERRORS.unauthorized:
      return "unauthorized";
    case BACKEND_ERRORS.revoked:
      return "revoked";
    case BACKEND_ERRORS.conflict:
      return "conflict";
    case BACKEND_ERRORS.notFound:
      return "not_found";
    case BACKEND_ERRORS.invalid:
      return "invalid";
    case BACKEND_ERRORS.wrongWorker:
      return "wrong_worker";
    default:
      return "transient";
  }
}

/** The human part of a backend error (ConvexError data message, else the error text). */
export function backendErrorMessage(e: unknown): string {
  if (e instanceof ConvexError && e.data && typeof e.data === "object" && "message" in e.data) {
    return String((e.data as { message: unknown }).message);
  }
  const msg = errorMessage(e);
  // Server errors arrive as "[Request ID: …] Server Error\nUncaught Error: …": keep the useful line.
  const uncaught = /Uncaught (?:\w*Error: )?(.*)/.exec(msg);
  return (uncaught?.[1] ?? msg).trim();
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BackendTimeout(what, ms)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
