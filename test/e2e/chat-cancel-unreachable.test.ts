// Ctrl+C in a chat at the awkward moments (issue 8, item 2): when the backend has gone away the
// cancel request cannot reach it, so waiting on could never end well — chat says why and exits 1
// at once instead of printing "could not cancel" and waiting for ever; and while the prompt is
// still being sent, chat must not die leaving it queued.
import { expect, test } from "bun:test";
import { createServer } from "node:http";
import { startCli } from "../support/cli.ts";
import { adminEnv, startChat, useWorld } from "./dev-support.ts";

const world = useWorld();

/** An HTTP-only proxy to the world's backend (no WebSocket upgrades); `hold` may delay a request by its body. */
async function httpProxy(hold: (body: Buffer) => Promise<void> = async () => {}) {
  const proxy = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    await hold(body);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !["host", "content-length", "connection"].includes(k))) as Record<string, string>;
    const upstream = await fetch(world.backend.url + req.url, { method: req.method, headers, body: req.method === "GET" ? undefined : body });
    res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  return proxy;
}

test("SIGTERM while the backend is unreachable: exit 1 naming the failed cancel, without a second signal", async () => {
  const pending = await world.addWorker({ name: "never-answers" }); // not approved: the answer waits
  const chat = startChat("binary", world, ["--worker", pending.name, "--new", "--timeout", "2", "wait for me"]);
  await chat.waitFor(/is not approved yet/, { stream: "stderr", timeoutMs: 30_000 });
  await world.backend.stopNetwork();
  try {
    chat.kill("SIGTERM");
    const end = await chat.exited;
    expect(end.code).toBe(1);
    expect(chat.stderr).toContain("could not cancel the answer: ");
    expect(chat.stderr).toContain("stopped waiting, it may still be running");
  } finally {
    await world.backend.startNetwork();
  }
}, 60_000);

test("Ctrl+C while the prompt is being sent: chat does not die leaving it queued; the answer is cancelled, exit 1", async () => {
  const pending = await world.addWorker({ name: "slow-send-target" }); // not approved: nothing claims the answer
  // A proxy in front of the backend that holds chat:send for a moment, so the signal lands mid-send.
  let sendSeen!: () => void;
  const sendArrived = new Promise<void>((r) => (sendSeen = r));
  const proxy = await httpProxy(async (body) => {
    if (body.includes("chat:send")) {
      sendSeen();
      await Bun.sleep(1_500);
    }
  });
  try {
    const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    const chat = startCli("binary", ["chat", "--worker", pending.name, "--new", "--url", url, "never mind"], { env: adminEnv(world) });
    await sendArrived;
    chat.kill("SIGINT");
    const end = await chat.exited;
    expect(end.code).toBe(1);
    expect(chat.stderr).toContain("interrupted while sending: the answer was cancelled");
    const sessionId = /session (\S+)/.exec(chat.stderr)![1]!;
    const [answer] = (await world.admin.messages(sessionId)).filter((m) => m.role === "assistant");
    expect(answer?.status).toBe("cancelled");
  } finally {
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
  }
}, 60_000);

test("calls answered but the live-update socket never opens (a proxy without WebSocket): exit 1 after --timeout, naming it", async () => {
  const pending = await world.addWorker({ name: "behind-a-proxy" });
  const proxy = await httpProxy();
  try {
    const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    const chat = startCli("binary", ["chat", "--worker", pending.name, "--new", "--url", url, "--timeout", "2", "hello?"], { env: adminEnv(world) });
    const end = await chat.exited;
    expect(end.code).toBe(1);
    expect(chat.stderr).toMatch(/session \S+/);
    expect(chat.stderr).toContain(`the backend at ${url} answered calls but did not open the live-update connection within 2 s`);
  } finally {
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
  }
}, 60_000);
