// Issue 8 item 1, backend half: a person-side call that names a worker never reaches or reads
// another worker's session or message, whatever id the caller remembered.
import { describe, expect, test } from "bun:test";
import { adminApi, chatApi, workerApi } from "../../src/backend/api.ts";
import { expectCode, newBackend, onlineWorker, queuePrompt } from "./setup.ts";

async function twoWorkers() {
  const t = newBackend();
  const api = await onlineWorker(t, "laptop", "api");
  const web = await onlineWorker(t, "laptop", "web");
  const ofWeb = await queuePrompt(t, web, "web's prompt");
  return { t, api, web, ofWeb };
}

describe("a named worker must own the session or message", () => {
  test("send to another worker's session is refused with WRONG_WORKER naming both, and nothing is queued", async () => {
    const { t, api, ofWeb } = await twoWorkers();
    for (const worker of ["api", api.workerId]) {
      const data = await expectCode(t.mutation(chatApi.send, { sessionId: ofWeb.sessionId, text: "run on api", worker }), "WRONG_WORKER");
      expect(data).toMatchObject({ worker: "api", owner: "web" });
      expect(data.message).toContain(`"web"`);
      expect(data.message).toContain(`"api"`);
      expect(data.message).toContain(ofWeb.sessionId);
    }
    const texts = await t.run(async (ctx) => (await ctx.db.query("messages").collect()).map((m) => m.text));
    expect(texts).not.toContain("run on api");
    expect((await t.query(workerApi.pendingWork, { auth: api.auth })).queued).toEqual([]);
  });

  test("send naming the owner (by name or id) is accepted", async () => {
    const { t, web, ofWeb } = await twoWorkers();
    await t.mutation(chatApi.send, { sessionId: ofWeb.sessionId, text: "by name", worker: "web" });
    await t.mutation(chatApi.send, { sessionId: ofWeb.sessionId, text: "by id", worker: web.workerId });
    const texts = (await t.query(chatApi.messages, { sessionId: ofWeb.sessionId })).filter((m) => m.role === "user").map((m) => m.text);
    expect(texts).toEqual(["web's prompt", "by name", "by id"]);
  });

  test("send naming an unknown worker is NOT_FOUND, not a message for the session's owner", async () => {
    const { t, ofWeb } = await twoWorkers();
    await expectCode(t.mutation(chatApi.send, { sessionId: ofWeb.sessionId, text: "x", worker: "nosuchworker" }), "NOT_FOUND");
    const count = await t.run(async (ctx) => (await ctx.db.query("messages").collect()).length);
    expect(count).toBe(2);
  });

  test("reading or cancelling another worker's message or session is refused", async () => {
    const { t, ofWeb } = await twoWorkers();
    await expectCode(t.query(chatApi.message, { messageId: ofWeb.messageId, worker: "api" }), "WRONG_WORKER");
    await expectCode(t.query(chatApi.messages, { sessionId: ofWeb.sessionId, worker: "api" }), "WRONG_WORKER");
    await expectCode(t.mutation(chatApi.cancel, { messageId: ofWeb.messageId, worker: "api" }), "WRONG_WORKER");
    const view = await t.query(chatApi.message, { messageId: ofWeb.messageId, worker: "web" });
    expect(view?.status).toBe("queued");
    expect(await t.query(chatApi.messages, { sessionId: ofWeb.sessionId, worker: "web" })).toHaveLength(2);
  });

  test("a revoked owner still answers WRONG_WORKER to another name rather than revealing nothing", async () => {
    const { t, ofWeb } = await twoWorkers();
    await t.mutation(adminApi.revoke, { worker: "web" });
    await expectCode(t.mutation(chatApi.send, { sessionId: ofWeb.sessionId, text: "x", worker: "api" }), "WRONG_WORKER");
    await expectCode(t.mutation(chatApi.send, { sessionId: ofWeb.sessionId, text: "x", worker: "web" }), "WORKER_REVOKED");
  });
});
