// Where the page listens, and which Host headers name this server. A page reachable under a
// name we did not bind to is how DNS rebinding reaches a local server, so only our own
// names are answered.
import { isLoopbackHost } from "../config/rules.ts";
import { UsageError } from "../util/errors.ts";

export const DEFAULT_WEB_ADDRESS = "127.0.0.1:7421";

export type WebAddress = { host: string; port: number };

/** `host:port` or `[v6]:port`; port 0 picks a free one. */
export function parseWebAddress(text: string): WebAddress {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[2]) > 65535) {
    throw new UsageError(`--address must be HOST:PORT such as ${DEFAULT_WEB_ADDRESS} (port 0 picks a free one), not "${text.slice(0, 60)}"`, {
      command: "web",
    });
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

export function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

export function isLoopback(host: string): boolean {
  return isLoopbackHost(host.includes(":") ? `[${host}]` : host);
}

/** `host:port` as it goes into a URL. */
export function formatHostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

const IP_LITERAL = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\])$/i;

/**
 * Whether a request's Host header names this server: the bound host itself, loopback names
 * when bound to loopback or to all interfaces, and any IP literal when bound to all
 * interfaces (no DNS name involved, so nothing to rebind). Always with our port.
 */
export function hostAllowed(header: string | undefined, bound: WebAddress): boolean {
  if (!header) return false;
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(header.trim().toLowerCase());
  if (!m || Number(m[2]) !== bound.port) return false;
  const name = m[1]!;
  const boundName = bound.host.includes(":") ? `[${bound.host.toLowerCase()}]` : bound.host.toLowerCase();
  if (name === boundName) return true;
  const loopbackName = name === "localhost" || isLoopbackHost(name);
  if (loopbackName && (isLoopback(bound.host) || isWildcard(bound.host))) return true;
  return isWildcard(bound.host) && IP_LITERAL.test(name);
}
