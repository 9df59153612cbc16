// The page's API: JSON in, JSON out, each call one backend call made with the admin key
// that never leaves this process.
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { AdminClient } from "../backend/admin-client.ts";
import { readJson, sendJson } from "./http.ts";
import { workersPayload } from "./events.ts";

/** Longest session title taken from a first prompt. */
export const TITLE_CHARS = 80;

const WorkerRef = z.string().min(1).max(200).describe("Worker id or name");
const AddWorkerBody = z.object({
  machine: z.string().trim().min(1, "give the machine a name").max(100).describe("Machine name (created if new)"),
  name: z.string().trim().max(100).optional().describe("Worker name (default: generated)"),
});
const PromptBody = z.object({
  worker: WorkerRef,
  text: z.string().min(1, "the prompt is empty").describe("The prompt"),
});
const CancelBody = z.object({ worker: WorkerRef });

export function titleOf(prompt: string): string {
  const line = prompt.trim().split("\n")[0]!.trim();
  return line.length > TITLE_CHARS ? line.slice(0, TITLE_CHARS - 1) + "…" : line;
}

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;
type Route = { method: "GET" | "POST"; path: RegExp; handle: Handler };

export function apiRoutes(admin: AdminClient): Route[] {
  const workerAction = (act: (w: string) => Promise<unknown>): Handler => async (_req, res, [w]) => {
    await act(decodeURIComponent(w!));
    sendJson(res, 200, workersPayload(await admin.list()));
  };
  return [
    { method: "GET", path: /^\/api\/workers$/, handle: async (_q, res) => sendJson(res, 200, workersPayload(await admin.list())) },
    {
      method: "POST",
      path: /^\/api\/workers$/,
      handle: async (req, res) => {
        const body = await readJson(req, AddWorkerBody);
        const r = await admin.addWorker(body.machine, body.name || undefined);
        sendJson(res, 200, r);
      },
    },
    { method: "POST", path: /^\/api\/workers\/([^/]+)\/approve$/, handle: workerAction((w) => admin.approve(w)) },
    { method: "POST", path: /^\/api\/workers\/([^/]+)\/revoke$/, handle: workerAction((w) => admin.revoke(w)) },
    { method: "POST", path: /^\/api\/workers\/([^/]+)\/pause$/, handle: workerAction((w) => admin.setPaused(w, true)) },
    { method: "POST", path: /^\/api\/workers\/([^/]+)\/resume$/, handle: workerAction((w) => admin.setPaused(w, false)) },
    {
      // A new session starts with its first prompt, which becomes its title.
      method: "POST",
      path: /^\/api\/sessions$/,
      handle: async (req, res) => {
        const body = await readJson(req, PromptBody);
        const s = await admin.createSession(body.worker, titleOf(body.text));
        const m = await admin.send(s.sessionId, body.text, body.worker);
        sendJson(res, 200, { sessionId: s.sessionId, title: titleOf(body.text), ...m });
      },
    },
    {
      method: "GET",
      path: /^\/api\/sessions\/([^/]+)$/,
      handle: async (_req, res, [s], url) => {
        const worker = url.searchParams.get("worker") ?? undefined;
        sendJson(res, 200, { messages: await admin.messages(decodeURIComponent(s!), worker) });
      },
    },
    {
      method: "POST",
      path: /^\/api\/sessions\/([^/]+)\/messages$/,
      handle: async (req, res, [s]) => {
        const body = await readJson(req, PromptBody);
        sendJson(res, 200, await admin.send(decodeURIComponent(s!), body.text, body.worker));
      },
    },
    {
      method: "POST",
      path: /^\/api\/messages\/([^/]+)\/cancel$/,
      handle: async (req, res, [m]) => {
        const body = await readJson(req, CancelBody);
        sendJson(res, 200, await admin.cancel(decodeURIComponent(m!), body.worker));
      },
    },
  ];
}

export function matchRoute(routes: Route[], method: string, path: string): { handle: Handler; params: string[] } | "wrong-method" | null {
  let pathMatched = false;
  for (const r of routes) {
    const m = r.path.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (r.method === method) return { handle: r.handle, params: m.slice(1) };
  }
  return pathMatched ? "wrong-method" : null;
}

