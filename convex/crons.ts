// On a real deployment the sweep runs on Convex's scheduler. The embedded local backend does
// not load this file (convex-test has no cron support); it calls admin:sweep on its own timer.
import { cronJobs, makeFunctionReference } from "convex/server";
import { SWEEP_INTERVAL_MS } from "./lib/constants";

const sweep = makeFunctionReference<"mutation", Record<string, never>>("admin:sweep");

const crons = cronJobs();
crons.interval("requeue abandoned messages and mark silent workers offline", { seconds: SWEEP_INTERVAL_MS / 1000 }, sweep, {});

export default crons;
