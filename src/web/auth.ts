// Who may use the page. The admin key stays in this process; a browser proves itself with
// a login token printed once in the URL, traded for an HttpOnly, SameSite=Strict cookie.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Cookies are shared by every port of a host, so the name carries the port: two `web`
 * servers on one machine must not log each other out.
 */
export function sessionCookieName(port: number): string {
  return `oo_session_${port}`;
}

/** How long a browser stays logged in (and the cookie's Max-Age). */
export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** Logged-in browsers kept at once; the oldest is dropped beyond this so memory stays bounded. */
export const MAX_BROWSER_SESSIONS = 1000;

export type WebAuth = ReturnType<typeof createWebAuth>;

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

export function createWebAuth(o: { cookieName: string; loginToken?: string; now?: () => number }) {
  const cookieName = o.cookieName;
  const loginToken = o.loginToken ?? randomBytes(32).toString("base64url");
  const now = o.now ?? Date.now;
  // Keyed by a hash of the cookie value, so a heap dump does not hold live cookies.
  const sessions = new Map<string, number>();

  return {
    loginToken,
    /** A new cookie value when `token` is the login token, else null. Compared in constant time. */
    login(token: unknown): string | null {
      if (typeof token !== "string" || !timingSafeEqual(digest(token), digest(loginToken))) return null;
      const value = randomBytes(32).toString("base64url");
      sessions.set(digest(value).toString("hex"), now() + SESSION_TTL_MS);
      while (sessions.size > MAX_BROWSER_SESSIONS) sessions.delete(sessions.keys().next().value!);
      return value;
    },
    /** Whether the request's Cookie header carries a live session. */
    check(cookieHeader: string | undefined): boolean {
      const value = readCookie(cookieHeader, cookieName);
      if (!value) return false;
      const key = digest(value).toString("hex");
      const expires = sessions.get(key);
      if (expires === undefined) return false;
      if (expires < now()) {
        sessions.delete(key);
        return false;
      }
      return true;
    },
    /** Set-Cookie value for a new session. */
    cookie(value: string): string {
      return `${cookieName}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(SESSION_TTL_MS / 1000)}`;
    },
    clearedCookie: `${cookieName}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`,
    logout(cookieHeader: string | undefined): void {
      const value = readCookie(cookieHeader, cookieName);
      if (value) sessions.delete(digest(value).toString("hex"));
    },
  };
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
