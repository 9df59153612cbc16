// The same client scenarios from a Node process: the Node build of convex/browser (which
// brings its own WebSocket) against a backend started here, including a restart mid-way.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { start, type Running } from "../support/proc.ts";
import { cleanup, fixtureBackend } from "./helpers.ts";

const spawned: Running[] = [];
afterEach(async () => {
  for (const c of spawned.splice(0)) c.kill("SIGKILL");
  await cleanup();
});

const SCRIPT = join(import.meta.dirname, "fixtures/node-client.mjs");

type Report = Record<string, any> & { check: string };

test("ConvexClient and ConvexHttpClient under Node: subscriptions, calls, errors, admin, races, reconnect", async () => {
  const b = await fixtureBackend();
  const child = start("node", [SCRIPT, b.url, b.adminKey]);
  spawned.push(child);
  await child.waitFor(/"check":"ready-for-restart"/, { stream: "stdout" });
  await b.stopNetwork();
  await b.run("messages:send", { body: "while away", author: "test" });
  await b.startNetwork();
  child.child.stdin!.end("go\n");
  const exit = await child.exited;
  const reports = new Map<string, Report>();
  for (const line of child.stdout.split("\n").filter(Boolean)) {
    const r = JSON.parse(line) as Report;
    reports.set(r.check, r);
  }
  const get = (check: string): Report => {
    const r = reports.get(check);
    if (!r) throw new Error(`no "${check}" report\nstdout: ${child.stdout}\nstderr: ${child.stderr}`);
    return r;
  };
  expect(get("subscription").count).toBe(1);
  expect(get("mutation")).toMatchObject({ idType: "string", shout: "NODE" });
  const errors = get("errors");
  for (const side of ["ws", "http"]) {
    expect(errors[side]).toMatchObject({ failed: true, convexError: true, data: { code: "NODE", detail: "fixture failure" } });
  }
  expect(errors.query).toMatchObject({ failed: true, convexError: false });
  expect(errors.query.message).toContain("kaboom");
  const admin = get("admin");
  expect(admin.httpAnon.message).toContain("Could not find public function for 'admin:secret'");
  expect(admin.wsAnon.message).toContain("Could not find public function for 'admin:secret'");
  expect(admin.httpAdmin).toBe("the secret");
  expect(admin.wsAdmin).toBe("the secret");
  expect(admin.wrongKey.message).toContain("BadAdminKey");
  expect(get("claims").winners).toBe(1);
  expect(get("reconnect")).toMatchObject({ connected: true, count: get("ready-for-restart").count + 2 });
  get("done");
  expect(exit.code).toBe(0);
});
