// Convex's HTTP API as ConvexHttpClient uses it: POST JSON to /api/query, /api/mutation,
// /api/action, /api/function, /api/query_ts and /api/query_at_ts. A function's own failure
// is HTTP 560 with `errorData` for ConvexError (the client rebuilds the ConvexError); a
// request the server refuses is another status with a JSON {code, message} body.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { JSONValue } from "convex/values";
import type { Logger } from "../util/log.ts";
import type { Caller, CallOutcome, Engine } from "./engine.ts";
import type { FunctionKind } from "./functions.ts";
import { encodeTs } from "./timestamp.ts";
import { errorMessage } from "../util/errors.ts";

export type HttpApiDeps = {
  engine: Engine;
  isAdminKey(value: string): boolean;
  log: Logger;
};

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const STATUS_UDF_FAILED = 560;

class HttpRefusal extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpRefusal(413, "RequestTooLarge", `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    const body = JSON.parse(text) as unknown;
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw new Error("not an object");
    return body as Record<string, unknown>;
  } catch {
    throw new HttpRefusal(400, "BadJsonBody", "the request body must be a JSON object");
  }
}

function callerFrom(req: IncomingMessage, isAdminKey: (v: string) => boolean): Caller {
  const header = req.headers.authorization;
  if (!header) return { admin: false };
  const [scheme, ...rest] = header.split(" ");
  const value = rest.join(" ").trim();
  if (scheme === "Convex") {
    if (!isAdminKey(value)) throw new HttpRefusal(401, "BadAdminKey", "The provided admin key is not valid for this backend (wrong admin key).");
    return { admin: true };
  }
  if (scheme === "Bearer") {
    throw new HttpRefusal(401, "Unauthenticated", "This embedded backend does not accept user tokens; call public functions without auth, or use the admin key.");
  }
  throw new HttpRefusal(401, "BadAuthHeader", `unsupported Authorization scheme "${scheme}"`);
}

const ROUTES: Record<string, FunctionKind | "function" | "query_ts"> = {
  "/api/query": "query",
  "/api/query_at_ts": "query",
  "/api/mutation": "mutation",
  "/api/action": "action",
  "/api/function": "function",
  "/api/query_ts": "query_ts",
};

function outcomeBody(o: CallOutcome): [number, object] {
  if (o.success) return [200, { status: "success", value: o.value, logLines: o.logLines }];
  return [STATUS_UDF_FAILED, { status: "error", errorMessage: o.errorMessage, ...(o.errorData !== undefined ? { errorData: o.errorData } : {}), logLines: o.logLines }];
}

export function createHttpApi(deps: HttpApiDeps) {
  const { engine, log } = deps;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") || "/";
    if (req.method === "GET" && path === "/") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("This is an embedded Convex backend (opencode-orchestrator). Point a Convex client at this URL.\n");
      return;
    }
    const route = ROUTES[path];
    if (!route) throw new HttpRefusal(404, "NotFound", `no such endpoint: ${req.method} ${path}`);
    if (req.method !== "POST") throw new HttpRefusal(405, "MethodNotAllowed", `${path} takes POST`);
    const caller = callerFrom(req, deps.isAdminKey);
    const body = await readJson(req);
    if (route === "query_ts") return sendJson(res, 200, { ts: encodeTs(engine.ts) });
    if (typeof body.path !== "string" || body.path === "") throw new HttpRefusal(400, "BadRequest", 'the body needs a "path" naming the function');
    if (typeof body.componentPath === "string" && body.componentPath !== "") {
      throw new HttpRefusal(400, "BadRequest", "components are not supported by the embedded backend");
    }
    // /api/function takes the arguments object itself; the others wrap it in an array.
    const args = (route === "function" ? body.args : Array.isArray(body.args) ? body.args[0] : body.args) ?? {};
    const outcome = await engine.call({ udfPath: body.path, args: args as JSONValue, ...(route === "function" ? {} : { kind: route }), caller });
    // Past timestamps are not kept: /api/query_at_ts answers at the latest one.
    const [status, payload] = outcomeBody(outcome);
    sendJson(res, status, payload);
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((e) => {
      if (e instanceof HttpRefusal) {
        if (e.code === "BadAdminKey") log.warn("an HTTP request presented a wrong admin key");
        sendJson(res, e.status, { code: e.code, message: e.message });
        return;
      }
      log.error("HTTP request failed", { error: errorMessage(e) });
      if (!res.headersSent) sendJson(res, 500, { code: "InternalServerError", message: "internal error in the embedded backend" });
      else res.destroy();
    });
  };
}
