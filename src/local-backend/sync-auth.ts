// Authenticate messages: the admin key (optionally acting as a user) or no auth at all.
// This backend has no identity provider, so user tokens are refused with a message that
// says what to do instead.
import type { Caller } from "./engine.ts";

const WRONG_ADMIN_KEY = "The provided admin key is not valid for this backend (wrong admin key).";
const NO_USER_AUTH = "This embedded backend does not accept user tokens; call public functions without auth, or use the admin key.";

/** The caller an Authenticate message asks for, or the AuthError to answer it with. */
export function authCaller(m: Record<string, unknown>, isAdminKey: (value: string) => boolean): { caller: Caller } | { error: string; wrongKey: boolean } {
  if (m.tokenType === "Admin") {
    if (typeof m.value !== "string" || !isAdminKey(m.value)) return { error: WRONG_ADMIN_KEY, wrongKey: true };
    const acting = m.impersonating as Caller["identity"] | undefined;
    return { caller: { admin: true, ...(acting ? { identity: acting } : {}) } };
  }
  if (m.tokenType === "None") return { caller: { admin: false } };
  return { error: NO_USER_AUTH, wrongKey: false };
}
