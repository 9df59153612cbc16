// A prompt goes only to the worker named with --worker (issue 8, item 1): a worker that does
// not exist is an error before anything is sent, and a remembered session is reused only for
// the worker it belongs to. Through the real CLI against the embedded backend, two workers.
import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chat, startChat, useWorld } from "./dev-support.ts";

const world = useWorld();

test("chat --worker nosuchworker --session <another worker's session> exits 1 and sends nothing", async () => {
  const other = await world.addWorker({ name: "web-owner", approve: true });
  const { sessionId } = await world.admin.createSession(other.workerId, "web's session");
  const r = await chat("binary", world, ["--worker", "nosuchworker", "--session", sessionId, "x"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('no worker with id or name "nosuchworker"');
  expect(await world.admin.messages(sessionId)).toEqual([]);
});

test("a remembered session of another worker (an older chat-sessions.json) is not reused: the prompt starts a session of the named worker", async () => {
  const api = await world.addWorker({ name: "api-named", approve: true });
  const web = await world.addWorker({ name: "web-named", approve: true });
  const { sessionId: websSession } = await world.admin.createSession(web.workerId, "web's session");
  // What chat remembered before sessions carried their worker: "<url> <worker as typed>" → session id.
  const dir = join(world.env.XDG_STATE_HOME!, "opencode-orchestrator");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, "chat-sessions.json"), JSON.stringify({ [`${world.backend.url} api-named`]: websSession }), { mode: 0o600 });

  const c = startChat("binary", world, ["--worker", "api-named", "prompt for api"]);
  const m = await c.waitFor(/session (\S+)/, { stream: "stderr", timeoutMs: 30_000 });
  c.kill("SIGKILL");
  expect(m[1]).not.toBe(websSession);
  expect(await world.admin.messages(websSession)).toEqual([]);
  const [prompt] = await world.admin.messages(m[1]!);
  expect(prompt?.text).toBe("prompt for api");
  // The new session belongs to api: chat with api continues it; chat with web does not.
  const again = startChat("binary", world, ["--worker", api.workerId, "second prompt"]);
  const m2 = await again.waitFor(/session (\S+)/, { stream: "stderr", timeoutMs: 30_000 });
  again.kill("SIGKILL");
  expect(m2[1]).toBe(m[1]);
  const toWeb = startChat("binary", world, ["--worker", "web-named", "for web"]);
  const m3 = await toWeb.waitFor(/session (\S+)/, { stream: "stderr", timeoutMs: 30_000 });
  toWeb.kill("SIGKILL");
  expect(m3[1]).not.toBe(m[1]);
}, 60_000);
