// Person-side commands against a backend that accepts the connection and never answers
// (issue 8, item 10): each gives up after --timeout with a message naming the backend and the
// flag, instead of waiting for minutes. A real TCP listener on 127.0.0.1 that holds every socket.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { runCli } from "../support/cli.ts";

let server: Server;
let url = "";
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

const silentBackend = (args: string[]) => runCli("binary", [...args, "--url", url, "--admin-key", "some-admin-key"], { timeoutMs: 20_000 });

test("admin list --timeout 1 against a server that never answers: exit 1 within seconds, naming the backend and --timeout", async () => {
  let reached = 0;
  server.once("connection", () => reached++);
  const r = await silentBackend(["admin", "list", "--timeout", "1"]);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toContain(`the backend at ${url} did not answer within 1 s`);
  expect(r.stderr).toContain("--timeout SECONDS");
  expect(reached).toBe(1); // it did connect: the silence is the server's
});

test("chat --timeout 1 against a server that never answers: exit 1 within seconds, nothing on stdout", async () => {
  const r = await silentBackend(["chat", "--worker", "api", "--timeout", "1", "hello"]);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toContain(`the backend at ${url} did not answer within 1 s`);
});

test("--timeout must be a number of seconds: a usage error (exit 2) otherwise", async () => {
  for (const bad of ["0", "soon", "99999"]) {
    const r = await silentBackend(["admin", "list", "--timeout", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--timeout must be a number from 0.1 to 3600 (got "${bad}")`);
  }
});

test("a server that answers without end: admin list stops at the size cap, exit 1, instead of filling memory", async () => {
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  const endless = createHttpServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    const pump = () => {
      while (res.write(chunk)) {
        if (res.destroyed) return;
      }
    };
    res.on("drain", pump);
    res.on("error", () => {});
    pump();
  });
  await new Promise<void>((r) => endless.listen(0, "127.0.0.1", r));
  try {
    const endlessUrl = `http://127.0.0.1:${(endless.address() as { port: number }).port}`;
    const r = await runCli("binary", ["admin", "list", "--url", endlessUrl, "--admin-key", "some-admin-key"], { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the backend at ${endlessUrl} sent an answer larger than 64 MB`);
  } finally {
    endless.closeAllConnections();
    await new Promise((r) => endless.close(r));
  }
});
