// A routed conversation moves when its worker goes away for good: two `dev` workers tagged by
// WORKER_TAGS; a `chat --tag` session is answered by worker A; A is paused, so the session's
// next prompt waits queued on A (a routed session stays with its worker); A is revoked; the
// queued prompt moves to B, and the chat says so on stderr and as a `moved` event, then prints
// B's answer.
import { describe, expect, test } from "bun:test";
import { admin, chat, sessionOf, startChat, startDev, useWorld } from "./dev-support.ts";

const world = useWorld();

async function onlineDev(name: string) {
  const w = await world.addWorker({ name, approve: true });
  const dev = startDev("binary", world, { cwd: world.project(name), token: w.token, env: { WORKER_TAGS: "api,linux" } });
  await dev.waitFor(/\bonline\b/, { stream: "stderr", timeoutMs: 60_000 });
  return dev;
}

describe("chat --tag when the worker goes away", () => {
  test("the queued prompt moves to another worker with the tags, with the note", async () => {
    const devA = await onlineDev("mover-a");
    const first = await chat("binary", world, ["--tag", "api", "--tag", "linux", "ECHO:before the move"]);
    expect(first).toMatchObject({ code: 0, stdout: "before the move\n" });
    expect(first.stderr).toContain('routed to worker "mover-a"');
    const session = sessionOf(first.stderr);
    expect((await admin("binary", world, ["pause", "mover-a"])).code).toBe(0);
    const devB = await onlineDev("mover-b");

    const next = startChat("binary", world, ["--tag", "api", "--session", session, "--json", "ECHO:after the move"]);
    // The session stays with its worker: the prompt waits on paused A, not on B.
    await next.waitFor(/routed to worker "mover-a"/, { stream: "stderr", timeoutMs: 60_000 });
    expect((await admin("binary", world, ["revoke", "mover-a"])).code).toBe(0);

    const done = await next.exited;
    expect({ code: done.code, stderr: next.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('the conversation moved: worker "mover-a" is gone') });
    expect(next.stderr).toContain('routed to worker "mover-b"');
    const events = next.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.slice(0, 3).map((e) => e.type)).toEqual(["routed", "moved", "routed"]);
    expect(events[1]).toEqual({ type: "moved", from: "mover-a" });
    expect(events[2]).toMatchObject({ type: "routed", worker: "mover-b", tags: ["api"] });
    expect(events.filter((e) => e.type === "text").map((e) => e.text).join("")).toBe("after the move");
    expect(events.at(-1)).toMatchObject({ type: "end", status: "completed", sessionId: session });

    // A revoked worker stops by itself; B drains on SIGTERM.
    expect((await devA.exited).code).toBe(78);
    devB.kill("SIGTERM");
    expect((await devB.exited).code).toBe(0);
  }, 180_000);
});
