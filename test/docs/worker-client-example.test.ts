// The README's promise for the backend: a script using only the `convex` package can register
// with a token from `admin add-worker`, wait for `admin approve`, subscribe to its pending work
// and see a message sent with the admin key arrive — against the embedded backend, under Node.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { REPO, runCli } from "../support/cli.ts";
import { startWorld, type World } from "../support/e2e.ts";
import { start, type Running } from "../support/proc.ts";

let world: World;
let worker: Running | undefined;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  worker?.kill("SIGKILL");
  await world.stop();
});

test("docs/examples/worker-client.mjs registers, is approved and receives a prompt", async () => {
  const adminEnv = { CONVEX_URL: world.backend.url, CONVEX_ADMIN_KEY: world.backend.adminKey };
  const added = await runCli("binary", ["admin", "add-worker", "--machine", "docs-machine", "--name", "docs-worker"], { env: adminEnv });
  expect(added.code).toBe(0);
  const token = added.stdout.trim();
  expect(token).toMatch(/^machine_[\w-]+:worker_[\w-]+:secret_[\w-]+$/);

  worker = start("node", [join(REPO, "docs/examples/worker-client.mjs")], {
    cwd: REPO,
    env: { WORKER_TOKEN: token, CONVEX_URL: world.backend.url, CONVEX_ADMIN_KEY: undefined },
  });
  await worker.waitFor(/registered: pending/, { stream: "stdout" });

  const approved = await runCli("binary", ["admin", "approve", "docs-worker"], { env: adminEnv });
  expect(approved.code).toBe(0);
  await worker.waitFor(/approved: waiting for prompts/, { stream: "stdout" });

  const { sessionId } = await world.admin.createSession("docs-worker", "docs");
  const { messageId } = await world.admin.send(sessionId, "hello from the admin side");
  await worker.waitFor(new RegExp(`prompt ${messageId}: hello from the admin side`), { stream: "stdout" });
});
