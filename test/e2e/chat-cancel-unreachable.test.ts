// Ctrl+C in a chat whose backend has gone away (issue 8, item 2): the cancel request cannot
// reach it, so waiting on could never end well. chat says why and exits 1 at once instead of
// printing "could not cancel" and waiting for ever.
import { expect, test } from "bun:test";
import { startChat, useWorld } from "./dev-support.ts";

const world = useWorld();

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
