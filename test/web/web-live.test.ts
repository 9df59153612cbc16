// The live stream resumes after a dropped connection with exactly what is new: the browser's
// Last-Event-ID (the cursor) makes the server send the missed text once, and nothing twice.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startOnlineDev, useWorld } from "../e2e/dev-support.ts";
import { loginCookie, sseReader, startWeb, stopWeb, type SseEvent, type Web } from "./web-support.ts";

let web: Web;
let cookie: string;
afterAll(() => stopWeb(web));
const world = useWorld();

beforeAll(async () => {
  web = await startWeb("binary", world);
  cookie = await loginCookie(web);
}, 60_000);

function open(path: string, lastEventId?: string, signal?: AbortSignal) {
  return fetch(web.base + path, { headers: { Cookie: cookie, ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) }, signal });
}

test("a dropped stream resumes from Last-Event-ID without losing or doubling text", async () => {
  const { worker } = await startOnlineDev("binary", world);
  const s = await world.admin.createSession(worker.workerId, "resume");
  const { messageId } = await world.admin.send(s.sessionId, "SLOW answer for the resume test", worker.workerId);
  const path = `/api/events?session=${s.sessionId}&worker=${worker.workerId}`;

  // First connection: the session as it is, then the answer's first deltas.
  let text = "";
  let lastId: string | undefined;
  const seenMessages: string[] = [];
  // Parts follow the same rule: each parts event carries only batches after the last one.
  let partsSeq = -1;
  const take = (e: SseEvent) => {
    if (e.id) lastId = e.id;
    if (e.event === "parts" && e.data.messageId === messageId) {
      expect(e.data.throughSeq).toBeGreaterThan(partsSeq);
      for (const p of e.data.parts) expect(p.seq).toBeGreaterThan(partsSeq);
      partsSeq = e.data.throughSeq;
    }
    if (e.event === "message") {
      seenMessages.push(e.data.view.messageId);
      if (e.data.view.messageId === messageId) text = e.data.view.text;
    }
    if (e.event === "delta" && e.data.messageId === messageId) {
      // Each delta starts exactly where the text held so far ends.
      expect(e.data.offset).toBe(text.length);
      text += e.data.text;
    }
  };
  const first = new AbortController();
  const r1 = sseReader(await open(path, undefined, first.signal));
  while (!text.includes("slow 2.")) take(await r1.next());
  first.abort();
  expect(seenMessages.length).toBe(2);

  // The answer goes on while nobody listens.
  const held = text.length;
  await world.waitForMessage(messageId, (m) => m.text.length > held + "slow 10. ".length);

  // Reconnect as EventSource does: only what is new, starting at the held offset.
  const second = new AbortController();
  const r2 = sseReader(await open(path, lastId, second.signal));
  let e = await r2.next();
  // The worker list and the worker's sessions come first on every new stream.
  while (e.event === "workers" || e.event === "sessions") e = await r2.next();
  expect(e.event).toBe("delta");
  expect(e.data.offset).toBe(held);
  take(e);
  await world.admin.cancel(messageId, worker.workerId);
  let status: string | undefined;
  while (status !== "cancelled") {
    const ev = await r2.next();
    expect(ev.event).not.toBe("message");
    take(ev);
    if (ev.event === "status") status = ev.data.status;
  }
  const final = await world.waitForMessage(messageId);
  // The last batches' parts follow the status change that ended the answer.
  while (partsSeq < final.outputBatches - 1) take(await r2.next());
  second.abort();
  expect(text).toBe(final.text);
  expect(partsSeq).toBe(final.outputBatches - 1);
}, 120_000);

test("a cursor that is not ours starts over with the whole session instead of failing", async () => {
  const w = await world.addWorker({ approve: true });
  const s = await world.admin.createSession(w.workerId, "garbage cursor");
  await world.admin.send(s.sessionId, "queued", w.workerId);
  const ac = new AbortController();
  const r = sseReader(await open(`/api/events?session=${s.sessionId}&worker=${w.workerId}`, "not-a-cursor!!", ac.signal));
  const kinds: string[] = [];
  while (kinds.filter((k) => k === "message").length < 2) kinds.push((await r.next()).event);
  ac.abort();
  expect(kinds.filter((k) => k === "message").length).toBe(2);
});
