// The page's HTTP server: static page from memory, a JSON API and server-sent events, behind
// Host, Origin and session checks. The admin key lives in `admin` and is never sent out.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import type { AdminClient } from "../backend/admin-client.ts";
import { OrchestratorError, RuntimeFailure, errorMessage } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { formatHostPort, hostAllowed, isWildcard, type WebAddress } from "./address.ts";
import { serveAsset } from "./assets.ts";
import { createWebAuth, sessionCookieName, type WebAuth } from "./auth.ts";
import { serveEvents } from "./events.ts";
import { HttpError, readJson, securityHeaders, sendError, sendJson } from "./http.ts";
import { apiRoutes, matchRoute } from "./routes.ts";

export type WebServer = {
  /** Base URL, e.g. http://127.0.0.1:7421 */
  url: string;
  /** The URL to open once: it carries the login token. */
  loginUrl: string;
  port: number;
  stop(): Promise<void>;
};

/** Live streams served at once (a few per open tab); beyond this a new one gets 503, so memory stays bounded. */
export const MAX_STREAMS = 100;

const LoginBody = z.object({ token: z.string().max(200).describe("The login token from the printed URL") });

/** State-changing calls must come from our own page: same Origin, and a JSON body (not a form). */
function crossSiteProblem(req: IncomingMessage): string | null {
  const origin = req.headers.origin;
  if (!origin || origin !== `http://${req.headers.host}`) return "cross-site request refused (Origin does not match)";
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") return "request refused: the body must be application/json";
  return null;
}

function failureStatus(e: OrchestratorError): number {
  return /^cannot reach|rejected the admin key|does not have this orchestrator/.test(e.message) ? 502 : 400;
}

/** What requests are served with; `auth` and `bound` are set once the port is known. */
type Site = {
  admin: AdminClient;
  routes: ReturnType<typeof apiRoutes>;
  /** Closers of the live event streams. */
  streams: Set<() => void>;
  // Made once the port is known (the cookie's name carries it); no request arrives before.
  auth: WebAuth | undefined;
  bound: WebAddress;
};

export async function startWebServer(o: { admin: AdminClient; address: WebAddress; log: Logger; loginToken?: string }): Promise<WebServer> {
  const site: Site = { admin: o.admin, routes: apiRoutes(o.admin), streams: new Set(), auth: undefined, bound: o.address };
  const server = createServer((req, res) => {
    handle(site, req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (e instanceof HttpError) return sendError(res, e.status, e.message);
      if (e instanceof OrchestratorError) return sendError(res, failureStatus(e), e.message);
      o.log.error("web request failed", { path: req.url, error: errorMessage(e) });
      sendError(res, 500, "internal error (see the server's log)");
    });
  });
  await listen(server, o.address);
  const port = (server.address() as AddressInfo).port;
  site.bound = { host: o.address.host, port };
  const auth = (site.auth = createWebAuth({ cookieName: sessionCookieName(port), loginToken: o.loginToken }));
  // A wildcard bind has no address to print; loopback is the one that surely works here.
  const shown = isWildcard(site.bound.host) ? "127.0.0.1" : site.bound.host;
  const base = `http://${formatHostPort(shown, port)}`;

  let stopping: Promise<void> | null = null;
  return {
    url: base,
    loginUrl: `${base}/#token=${auth.loginToken}`,
    port,
    stop() {
      stopping ??= (async () => {
        for (const close of [...site.streams]) close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return stopping;
    },
  };
}

async function handle(site: Site, req: IncomingMessage, res: ServerResponse): Promise<void> {
  securityHeaders(res);
  if (!hostAllowed(req.headers.host, site.bound)) return sendError(res, 403, "unknown Host: this server answers only to its own address");
  const url = new URL(req.url ?? "/", "http://localhost");
  const method = req.method ?? "GET";
  if (!url.pathname.startsWith("/api/")) {
    if ((method === "GET" || method === "HEAD") && serveAsset(res, url.pathname)) return;
    return sendError(res, 404, "not found");
  }
  if (method === "POST") {
    const problem = crossSiteProblem(req);
    if (problem) return sendError(res, 403, problem);
  }
  const { auth, streams } = site;
  if (!auth) return sendError(res, 503, "starting");
  if (url.pathname === "/api/login" && method === "POST") {
    const value = auth.login((await readJson(req, LoginBody)).token);
    if (!value) return sendError(res, 401, "this login link is not valid for this server (it changes each time `web` starts)");
    return sendJson(res, 200, { ok: true }, { "Set-Cookie": auth.cookie(value) });
  }
  if (!auth.check(req.headers.cookie)) return sendError(res, 401, "not logged in: open the URL that `web` printed");
  if (url.pathname === "/api/logout" && method === "POST") {
    auth.logout(req.headers.cookie);
    return sendJson(res, 200, { ok: true }, { "Set-Cookie": auth.clearedCookie });
  }
  if (url.pathname === "/api/session" && method === "GET") return sendJson(res, 200, { ok: true });
  if (url.pathname === "/api/events" && method === "GET") {
    if (streams.size >= MAX_STREAMS) return sendError(res, 503, `too many live connections (limit ${MAX_STREAMS}); close some tabs`);
    const close = serveEvents(req, res, site.admin, url);
    streams.add(close);
    res.on("close", () => streams.delete(close));
    return;
  }
  const route = matchRoute(site.routes, method, url.pathname);
  if (route === null) return sendError(res, 404, "no such API endpoint");
  if (route === "wrong-method") return sendError(res, 405, "method not allowed");
  await route.handle(req, res, route.params, url);
}

function listen(server: Server, address: WebAddress): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "EADDRINUSE"
          ? new RuntimeFailure(`address ${formatHostPort(address.host, address.port)} is already in use`, {
              hint: "Stop whatever uses it (another `web`?), or pass --address 127.0.0.1:0 to pick a free port.",
            })
          : new RuntimeFailure(`cannot listen on ${formatHostPort(address.host, address.port)}: ${e.message}`),
      ),
    );
    server.listen(address.port, address.host, () => resolve());
  });
}
