// Where the page is, kept in the URL hash so a reload (or a bookmark) comes back to it.
export type Route = { worker?: string; session?: string; add?: boolean };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "add") return { add: true };
  if (parts[0] !== "w" || !parts[1]) return {};
  return { worker: parts[1], ...(parts[2] === "s" && parts[3] ? { session: parts[3] } : {}) };
}

export function routeHash(r: Route): string {
  if (r.add) return "#/add";
  if (!r.worker) return "#/";
  return `#/w/${encodeURIComponent(r.worker)}${r.session ? `/s/${encodeURIComponent(r.session)}` : ""}`;
}

export function go(r: Route): void {
  location.hash = routeHash(r);
}

/** The login token from `#token=…`, once; it is removed from the address bar right away. */
export function takeLoginToken(): string | null {
  const m = /^#token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, "", location.pathname + location.search + "#/");
  return m[1]!;
}
