// How a worker recognises that another process took it over: from its self view (the fast path)
// and from the CONFLICT a stale process's heartbeat gets (the backstop), both against the real
// backend functions.
import { describe, expect, test } from "bun:test";
import { workerApi } from "../../src/backend/api.ts";
import { toFailure } from "../../src/worker/failure.ts";
import { takeoverCheck } from "../../src/worker/takeover.ts";
import { INFO, newBackend, onlineWorker, queuePrompt } from "../convex/setup.ts";

const CTX = { everConnected: true, convexUrl: "http://127.0.0.1:1" };

describe("takeover", () => {
  test("the self view: another holder after our own registration is a takeover naming its pid and host", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const check = takeoverCheck(w.instanceId);
    expect(check(await t.query(workerApi.self, { auth: w.auth }))).toBeNull();
    await t.mutation(workerApi.register, { auth: w.auth, instanceId: "newer", info: { ...INFO, hostname: "host-b", pid: 4321 } });
    const lost = check(await t.query(workerApi.self, { auth: w.auth }));
    expect(lost?.errorClass).toBe("taken_over");
    expect(lost?.message).toBe(
      "taken over: another process (pid 4321 on host-b) registered with this worker's token — stop the other process and restart this one (orchestrate: reload it, e.g. SIGHUP), or give this one its own token",
    );
  });

  test("a view from before our own registration is not mistaken for a rival", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    const view = await t.query(workerApi.self, { auth: w.auth });
    // A restarted worker (new instance id) may first see its previous instance as the holder.
    const check = takeoverCheck("restarted");
    expect(check(view)).toBeNull();
    expect(check({ ...view, holder: null })).toBeNull();
  });

  test("the heartbeat's CONFLICT maps to a final taken_over failure, not a transient one", async () => {
    const t = newBackend();
    const w = await onlineWorker(t);
    await t.mutation(workerApi.register, { auth: w.auth, instanceId: "newer", info: { ...INFO, hostname: "host-b", pid: 99 } });
    const e = await t.mutation(workerApi.heartbeat, { auth: w.auth, instanceId: w.instanceId, draining: false, runningMessageIds: [] }).catch((x: unknown) => x);
    const f = toFailure(e, "heartbeat", CTX);
    expect(f.errorClass).toBe("taken_over");
    expect(f.message).toContain("(pid 99 on host-b)");
    // A claim by the older process is refused the same way (intake hands it to the same mapping).
    const { messageId } = await queuePrompt(t, w);
    const claim = await t.mutation(workerApi.claim, { auth: w.auth, instanceId: w.instanceId, messageId }).catch((x: unknown) => x);
    expect(toFailure(claim, "claim", CTX).errorClass).toBe("taken_over");
  });
});
