// Value rules shared by workers.json, .env and the interactive prompts, so an answer typed
// at a prompt is held to exactly the rules the file is.
import { explainBadToken, TOKEN_FORMAT_HELP, WorkerToken } from "./token.ts";

export type RuleResult<T> = { ok: true; value: T } | { ok: false; message: string; fix: string };

/** Template placeholders get their own message: the user has not edited the file yet. */
const PLACEHOLDER = /PASTE|YOUR|<|>/;

export function checkToken(text: string): RuleResult<WorkerToken> {
  const token = WorkerToken.parse(text);
  if (token) return { ok: true, value: token };
  if (PLACEHOLDER.test(text)) {
    return { ok: false, message: "still holds the template's placeholder instead of a worker token", fix: TOKEN_FORMAT_HELP };
  }
  // explainBadToken never echoes the value: a mistyped token is still mostly a secret.
  return { ok: false, message: `is not a worker token: ${explainBadToken(text)}`, fix: TOKEN_FORMAT_HELP };
}

const LOOPBACK_NAMES = new Set(["localhost", "[::1]"]);

/** 127.0.0.0/8, localhost and [::1]: the hosts where plain http cannot be sniffed on a network. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  if (LOOPBACK_NAMES.has(h) || h === "::1") return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m.slice(1).every((p) => Number(p) <= 255);
}

const CONVEX_URL_FIX = "Use your deployment's URL, e.g. https://happy-animal-123.convex.cloud (http:// only for 127.0.0.1, localhost or [::1]).";

/** https required; http only for loopback hosts; trailing slashes dropped so URLs compare equal. */
export function checkConvexUrl(text: string): RuleResult<string> {
  const raw = text.trim();
  if (raw === "") return { ok: false, message: "is empty", fix: CONVEX_URL_FIX };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: `is not a URL ("${clip(raw)}")`, fix: CONVEX_URL_FIX };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, message: `must start with https:// (found ${url.protocol}//)`, fix: CONVEX_URL_FIX };
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    return {
      ok: false,
      message: `must use https:// for "${url.hostname}": plain http is only accepted for loopback hosts (127.0.0.0/8, localhost, [::1])`,
      fix: `Change it to https://${url.host}${url.pathname === "/" ? "" : url.pathname}`,
    };
  }
  if (url.username || url.password) {
    return { ok: false, message: "must not contain a user name or password", fix: CONVEX_URL_FIX };
  }
  if (url.search || url.hash) {
    return { ok: false, message: "must not have a query (?…) or fragment (#…)", fix: CONVEX_URL_FIX };
  }
  const path = url.pathname.replace(/\/+$/, "");
  return { ok: true, value: `${url.protocol}//${url.host}${path}` };
}

/** A status listen address: `host:port`, `[v6]:port` or "off". Returns null for "off". */
export function checkStatusAddress(text: string): RuleResult<string | null> & { loopback?: boolean } {
  const raw = text.trim();
  if (raw.toLowerCase() === "off") return { ok: true, value: null };
  const fix = 'Use "host:port" such as "127.0.0.1:7420", or "off" to disable the status endpoint.';
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw);
  if (!m) return { ok: false, message: `must be "host:port" or "off" (found "${clip(raw)}")`, fix };
  const port = Number(m[2]);
  if (port > 65535) return { ok: false, message: `port ${port} is out of range (0-65535)`, fix };
  return { ok: true, value: `${m[1]}:${port}`, loopback: isLoopbackHost(m[1]!) };
}

/** Non-secret values may be quoted back, but never at length. */
function clip(s: string): string {
  if (/secret_/i.test(s)) return "<value hidden: it looks like it holds a secret>";
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}
