// The network layer: one node:http server for the HTTP API and, on /api/<version>/sync,
// WebSocket upgrades handled by `ws` (works as a server under both Node and Bun). It can be
// closed and opened again on the same port while the engine — and so the data — lives on.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { RuntimeFailure } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import type { Engine } from "./engine.ts";
import { createHttpApi } from "./http-api.ts";
import type { RequestMemo } from "./request-memo.ts";
import { createSyncSession, type SyncSession } from "./sync-session.ts";

export class AddressInUseError extends RuntimeFailure {
  readonly host: string;
  readonly port: number;
  constructor(host: string, port: number) {
    super(`port ${port} on ${host} is already in use`);
    this.host = host;
    this.port = port;
  }
}

export type NetworkOptions = {
  host: string;
  port: number;
  engine: Engine;
  memo: RequestMemo;
  isAdminKey(value: string): boolean;
  log: Logger;
  /** Ping every connection this often; the client drops a connection silent for 60 s. */
  pingIntervalMs: number;
};

export type Network = {
  readonly port: number;
  readonly connections: number;
  close(): Promise<void>;
};

const SYNC_PATH = /^\/api\/[^/]+\/sync\/?$/;
const CLOSE_GRACE_MS = 1000;

export async function openNetwork(opts: NetworkOptions): Promise<Network> {
  const { log } = opts;
  const server = createServer(createHttpApi(opts));
  const sockets = new Set<Socket>();
  const live = new Map<WebSocket, SyncSession>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });

  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (!SYNC_PATH.test(path)) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws, opts, live));
  });

  await listen(server, opts.host, opts.port);
  server.on("error", (e) => log.error("backend server error", { error: e.message }));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;

  const ping = setInterval(() => {
    for (const ws of live.keys()) if (ws.readyState === ws.OPEN) ws.send('{"type":"Ping"}');
  }, opts.pingIntervalMs);
  ping.unref?.();

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    clearInterval(ping);
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    const closes = [...live.entries()].map(([ws, session]) => {
      session.dispose();
      return goAway(ws);
    });
    await Promise.all(closes);
    wss.close();
    for (const s of sockets) s.destroy();
    await stopped;
  }

  return {
    port,
    get connections() {
      return live.size;
    },
    close: () => (closing ??= close()),
  };
}

/** A sync session for a new WebSocket, alive in `live` until the socket closes. */
function attach(ws: WebSocket, opts: NetworkOptions, live: Map<WebSocket, SyncSession>): void {
  const { log } = opts;
  const session = createSyncSession({
    engine: opts.engine,
    memo: opts.memo,
    isAdminKey: opts.isAdminKey,
    log,
    send: (message) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    },
    close: (code, reason) => ws.close(code, reason),
  });
  live.set(ws, session);
  ws.on("message", (data) => session.receive(data.toString()));
  ws.on("close", () => {
    session.dispose();
    live.delete(ws);
  });
  ws.on("error", (e) => log.debug("sync socket error", { error: e.message }));
}

/** Listen on host:port; the reasons it cannot become errors that say so. */
function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (e.code === "EADDRINUSE") reject(new AddressInUseError(host, port));
      else if (e.code === "EACCES") reject(new RuntimeFailure(`not allowed to listen on ${host}:${port}`, { cause: e }));
      else if (e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND") reject(new RuntimeFailure(`cannot listen on host ${host}: no such local address`, { cause: e }));
      else reject(new RuntimeFailure(`cannot listen on ${host}:${port}: ${e.message}`, { cause: e }));
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

/**
 * Going away (1001): the client reconnects with its usual backoff and no error log. A socket
 * that does not close within the grace period is cut.
 */
function goAway(ws: WebSocket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve();
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, CLOSE_GRACE_MS);
    ws.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close(1001, "ServerShutdown");
  });
}
