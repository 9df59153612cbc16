// The page's API: JSON in, JSON out, each call one backend call made with the admin key
// that never leaves this process.
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { AdminClient } from "../backend/admin-client.ts";
import type { AddedWorker } from "./page/api.ts";
import { shortTitle } from "../../convex/sessions.ts";
import { readJson, sendJson } from "./http.ts";
import { workersPayload } from "./events.ts";

const WorkerRef = z.string().min(1).max(200).describe("Worker id or name");
const AddWorkerBody = z.object({
  machine: z.string().trim().min(1, "give the machine a name").max(100).describe("Machine name (created if new)"),
  name: z.string().trim().max(100).optional().describe("Worker name (default: generated)"),
});
const PromptBody = z.object({
  worker: WorkerRef,
  text: z.string().min(1, "the prompt is empty").describe("The prompt"),
  model: z.string().min(1).max(300).optional().describe("providerId/modelId from the worker's models; absent: the worker's default"),
});
const CancelBody = z.object({ worker: WorkerRef });
const ReplyBody = z.object({
  worker: WorkerRef,
  reply: z.enum(["once", "always", "reject"]).describe("once/always allow (a question: answered); reject refuses"),
  message: z.string().max(2_000).optional().describe("Told to the agent with a reject"),
  answers: z.array(z.array(z.string().max(1_000)).max(50)).max(20).optional().describe("A question's picked labels, per question"),
});

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
        // The new worker needs the backend's URL too; after `up`, a person has never seen it.
        sendJson(res, 200, { ...r, convexUrl: admin.url } satisfies AddedWorker);
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
        const s = await admin.createSession(body.worker, shortTitle(body.text));
        const m = await admin.send(s.sessionId, body.text, body.worker, body.model);
        sendJson(res, 200, { sessionId: s.sessionId, title: shortTitle(body.text), ...m });
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
        sendJson(res, 200, await admin.send(decodeURIComponent(s!), body.text, body.worker, body.model));
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
    {
      method: "POST",
      path: /^\/api\/requests\/([^/]+)\/reply$/,
      handle: async (req, res, [r]) => {
        const { reply, ...opts } = await readJson(req, ReplyBody);
        sendJson(res, 200, await admin.reply(decodeURIComponent(r!), reply, opts));
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

