// The person-side client against the embedded backend (in-process, the real convex/ functions).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connectAdmin, type AdminClient } from "../../src/backend/admin-client.ts";
import { startLocalBackend, type LocalBackend } from "../../src/local-backend/backend.ts";
import { modules, schema } from "../../src/local-backend/modules.ts";

let backend: LocalBackend;
let admin: AdminClient;
beforeAll(async () => {
  backend = await startLocalBackend({ schema, modules });
  admin = connectAdmin(backend.url, backend.adminKey);
});
afterAll(async () => {
  await admin.close();
  await backend.stop();
});

test("watchConnection reports a live socket that was already open when it started", async () => {
  await openSocket(admin);
  const seen: boolean[] = [];
  const stop = admin.watchConnection((c) => seen.push(c));
  // The convex client tells its subscribers only of changes; nothing changes here, so a watcher
  // that heard nothing would wait for an "open" that already happened (chat's follow then gave
  // up after --timeout on the 2nd answer of an interactive session).
  await Promise.resolve();
  stop();
  expect(seen).toEqual([true]);
});

/** Opens the live-update socket with a subscription and waits for its first result. */
function openSocket(a: AdminClient): Promise<void> {
  return new Promise((resolve, reject) => {
    let stop: (() => void) | undefined;
    stop = a.watchMessage(
      "m0000000000000000000000000",
      () => {
        stop?.();
        resolve();
      },
      reject,
    );
  });
}
