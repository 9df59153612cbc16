// Typed, data-carrying errors. The codes match BACKEND_ERRORS in src/backend/api.ts; clients
// read `error.data.code` instead of parsing text.
import { ConvexError } from "convex/values";

/**
 * WRONG_WORKER: a person-side call named a worker, but the session or message belongs to
 * another one; data carries `worker` (the named one) and `owner` (names, or ids if gone).
 * ALREADY_ANSWERED: a request a person answers was answered (or ended) before; data has `status`.
 */
export type ErrorCode = "UNAUTHORIZED" | "WORKER_REVOKED" | "NOT_FOUND" | "CONFLICT" | "INVALID" | "WRONG_WORKER" | "ALREADY_ANSWERED";

/** Throws `ConvexError({ code, message, ...extra })`; `extra` carries facts a client can act on. */
export function fail(code: ErrorCode, message: string, extra: Record<string, string | number> = {}): never {
  throw new ConvexError({ ...extra, code, message });
}

/** Rejects text that is empty (after trimming) or longer than `max`. */
export function checkText(what: string, text: string, max: number, allowEmpty = false): string {
  const trimmed = text.trim();
  if (!allowEmpty && trimmed === "") fail("INVALID", `${what} must not be empty.`);
  if (text.length > max) fail("INVALID", `${what} is too long (${text.length} characters; the limit is ${max}).`);
  return trimmed;
}
