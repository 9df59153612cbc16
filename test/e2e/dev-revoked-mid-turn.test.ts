// Revoked while answering: the worker's last writes are refused (WORKER_REVOKED) after it gave up
// on the backend. That refusal must not escape as an unhandled rejection (a stack trace, exit 1,
// OpenCode left running): dev stops as for any revocation, exit 78, and chat reports the end.
import { expect, test } from "bun:test";
import { startChat, startDev, useWorld } from "./dev-support.ts";

let release: () => void = () => {};
const released = new Promise<void>((r) => (release = r));
const world = useWorld({ stub: { slowChunks: 2, slowChunkGate: () => released } });

test("dev revoked in the middle of a turn exits 78 without a stack trace", async () => {
  try {
    const w = await world.addWorker({ name: "revoked-busy", approve: true });
    const dev = startDev("binary", world, { cwd: world.project("revoked-busy"), token: w.token });
    await dev.waitFor(/\bonline\b/, { stream: "stderr", timeoutMs: 60_000 });
    const chat = startChat("binary", world, ["--worker", "revoked-busy", "SLOW held answer"]);
    await world.stub.waitForRequest((r) => r.lastUserText === "SLOW held answer", 60_000);
    await world.admin.revoke("revoked-busy");
    const done = await dev.exited;
    expect({ code: done.code, trace: /ConvexError|^\s+at /m.test(dev.stderr) }).toEqual({ code: 78, trace: false });
    expect(dev.stderr).toContain("this worker was revoked");
    expect((await chat.exited).code).toBe(1);
    expect(chat.stderr).toMatch(/answer interrupted/);
  } finally {
    release();
  }
}, 120_000);
