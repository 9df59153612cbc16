// Scheduled functions and crons run on their own, reach subscribers like any other
// write, and survive a restart of a persistent backend.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { makeFunctionReference } from "convex/server";
import type { ModuleMap } from "../../src/local-backend/functions.ts";
import { cleanup, eventually, fixtureBackend, httpClient, watch, wsClient } from "./helpers.ts";
import { modules } from "./fixtures/modules.ts";
import { tempDir } from "../support/tmp.ts";

const byName = makeFunctionReference<"query", { name: string }, { name: string; beats: number } | null>("workers:byName");
const addLater = makeFunctionReference<"mutation", { name: string; delayMs: number }, string>("workers:addLater");
const addLaterBroken = makeFunctionReference<"mutation", Record<string, never>, string>("workers:addLaterBroken");
const jobs = makeFunctionReference<"query", Record<string, never>, { name: string; state: string }[]>("workers:jobs");

const withCrons: ModuleMap = { ...modules, "./crons.ts": () => import("./fixtures/crons.ts") };

afterEach(cleanup);

describe("scheduled functions", () => {
  test("ctx.scheduler.runAfter runs the function later and subscribers see its write", async () => {
    const b = await fixtureBackend();
    const w = watch(wsClient(b.url), byName, { name: "soon" });
    await eventually(() => w.state.updates === 1, "the empty result");
    await httpClient(b.url).mutation(addLater, { name: "soon", delayMs: 50 });
    await eventually(() => (w.state.value as { beats: number } | null)?.beats === 0, "the scheduled insert");
  });

  test("a job scheduled before a restart runs after it", async () => {
    const dir = join(tempDir("data-"), "backend");
    const first = await fixtureBackend({ dataDir: dir });
    await httpClient(first.url).mutation(addLater, { name: "after-restart", delayMs: 400 });
    await first.stop();
    const second = await fixtureBackend({ dataDir: dir });
    const w = watch(wsClient(second.url), byName, { name: "after-restart" });
    await eventually(() => (w.state.value as { beats: number } | null)?.beats === 0, "the job to run after the restart");
  });
});

describe("job records", () => {
  test("a job that ran is recorded as success, one whose function failed as failed (having written nothing)", async () => {
    const b = await fixtureBackend();
    const http = httpClient(b.url);
    await http.mutation(addLater, { name: "ok", delayMs: 0 });
    await http.mutation(addLaterBroken, {});
    const states = await eventually(async () => {
      const all = await http.query(jobs, {});
      return all.every((j) => j.state !== "pending" && j.state !== "inProgress") && all;
    }, "both jobs to finish");
    expect(states).toEqual([
      { name: "workers:add", state: "success" },
      { name: "workers:add", state: "failed" },
    ]);
    expect(await http.query(byName, { name: "ok" })).toEqual({ name: "ok", beats: 0 });
  });
});

describe("crons", () => {
  test("the crons module's jobs run on their schedule", async () => {
    const b = await fixtureBackend({ modules: withCrons, sweepIntervalMs: undefined });
    const w = watch(wsClient(b.url), byName, { name: "cron" });
    await eventually(() => ((w.state.value as { beats: number } | null)?.beats ?? 0) >= 2, "two cron runs");
  });

  test("sweepIntervalMs: 0 turns crons off", async () => {
    const b = await fixtureBackend({ modules: withCrons, sweepIntervalMs: 0 });
    expect(await b.engine.cronCount()).toBe(1);
    // A scheduled job after the cron's interval proves time passed with the timers running.
    const w = watch(wsClient(b.url), byName, { name: "marker" });
    await httpClient(b.url).mutation(addLater, { name: "marker", delayMs: 1500 });
    await eventually(() => (w.state.value as { beats: number } | null)?.beats === 0, "the marker job");
    expect(await httpClient(b.url).query(byName, { name: "cron" })).toBeNull();
  });
});
