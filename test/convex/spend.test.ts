// The day's spend the backend counts per worker (convex/lib/spend.ts): from the step usage parts
// the worker reports, once each (an updated step adds its difference, a message's total is not
// counted again), per UTC day, returned by register so max_daily_cost outlives a restart.
import { afterEach, expect, setSystemTime, test } from "bun:test";
import { workerApi, type PartUpdate } from "../../src/backend/api.ts";
import { INFO, newBackend, onlineWorker, runningPrompt, type Backend, type TestWorker } from "./setup.ts";

const step = (key: string, cost: number, scope: "step" | "message" = "step"): PartUpdate => ({
  key,
  kind: "usage",
  usage: { scope, input: 1, output: 1, reasoning: 0, cacheRead: 0, cacheWrite: 0, cost },
});

afterEach(() => void setSystemTime());

async function spentAtRegister(t: Backend, w: TestWorker) {
  const r = await t.mutation(workerApi.register, { auth: w.auth, instanceId: `${w.instanceId}-next`, info: INFO });
  return r.spentToday;
}

test("step costs add up per worker and day; updates add their difference; message totals and repeated batches do not count", async () => {
  setSystemTime(new Date("2026-12-01T23:00:00Z"));
  const t = newBackend();
  const w = await onlineWorker(t, "laptop", "alpha");
  const other = await onlineWorker(t, "laptop", "beta");
  const { messageId } = await runningPrompt(t, w);
  const append = (seq: number, parts: PartUpdate[]) => t.mutation(workerApi.appendOutput, { auth: w.auth, instanceId: w.instanceId, messageId, seq, text: "", parts });

  await append(0, [step("usage:s1", 0.5)]);
  await append(1, [step("usage:s1", 0.75), step("usage:s2", 0.25)]);
  await append(1, [step("usage:s3", 9)]); // a retried batch: stored once already
  await append(2, [step("usage:msg", 1, "message")]);
  expect(await spentAtRegister(t, w)).toEqual({ day: "2026-12-01", cost: 1 });
  expect(await spentAtRegister(t, other)).toEqual({ day: "2026-12-01", cost: 0 });

  // A new UTC day starts at zero, and counts what comes then.
  setSystemTime(new Date("2026-12-02T00:30:00Z"));
  expect(await spentAtRegister(t, w)).toEqual({ day: "2026-12-02", cost: 0 });
});
