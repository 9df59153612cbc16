// Text from the other side never reaches the terminal raw (issue 8, item 9): a worker's own
// registration (host name, folder) in `admin list`, and an answer's text in `chat`, carry
// escape sequences, NULs and bidi overrides; the CLI shows each as a visible escape and keeps
// an answer's newlines and tabs. A real worker client writes them into the embedded backend.
import { afterEach, expect, test } from "bun:test";
import { connectWorkerBackend, type WorkerBackend } from "../../src/backend/worker-client.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { admin, startChat, useWorld } from "./dev-support.ts";

const world = useWorld();
const clients: WorkerBackend[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
});

const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

async function registeredWorker(name: string, info: { hostname: string; directory: string }) {
  const w = await world.addWorker({ name, approve: true });
  const backend = connectWorkerBackend(world.backend.url, WorkerToken.parse(w.token)!);
  clients.push(backend);
  const instanceId = `instance-${name}`;
  await backend.register(instanceId, { ...info, version: "0.0.0-test" });
  return { ...w, backend, instanceId };
}

test("admin list shows a worker's registered folder with its control characters made visible (table and --json)", async () => {
  const folder = "/srv/\u001b[2J\u001b]0;owned\u0007evil\u0000dir\u202egnp.exe";
  await registeredWorker("foreign-folder", { hostname: "host\u001b[31m", directory: folder });
  const table = await admin("binary", world, ["list"]);
  expect(table.code).toBe(0);
  expect(table.stdout).not.toMatch(RAW);
  expect(table.stdout).toContain("/srv/\\x1b[2J\\x1b]0;owned\\x07evil\\x00dir\\u202egnp.exe");

  const json = await admin("binary", world, ["list", "--json"]);
  expect(json.stdout).not.toMatch(RAW);
  const listed = (JSON.parse(json.stdout) as { workers: { name: string; directory: string; hostname: string }[] }).workers;
  expect(listed.find((w) => w.name === "foreign-folder")).toMatchObject({ directory: folder, hostname: "host\u001b[31m" });
});

test("chat prints an answer's escape sequences and NULs visibly, keeping its newlines and tabs", async () => {
  const w = await registeredWorker("foreign-answer", { hostname: "box", directory: "/srv/project" });
  const chat = startChat("binary", world, ["--worker", w.name, "--new", "say something"]);
  const sessionId = (await chat.waitFor(/session (\S+)/, { stream: "stderr", timeoutMs: 30_000 }))[1]!;
  const answer = (await world.admin.messages(sessionId)).find((m) => m.role === "assistant")!;
  expect(await w.backend.claim(w.instanceId, answer.messageId)).toMatchObject({ claimed: true });
  await w.backend.appendOutput(w.instanceId, answer.messageId, 0, "line one\n\u001b[31mred\u001b[0m\tafter a tab\u0000\r\nover\rwritten\u009b2J end");
  await w.backend.finish(w.instanceId, answer.messageId, "completed");
  const end = await chat.exited;
  expect(end.code).toBe(0);
  expect(chat.stdout).toBe("line one\n\\x1b[31mred\\x1b[0m\tafter a tab\\x00\nover\\x0dwritten\\x9b2J end\n");
});
