// Maintenance on Convex's scheduler: the sweep (leases, silent workers) and retention. The
// embedded backend loads this file too and runs the same crons (src/local-backend/schedules.ts).
import { cronJobs, makeFunctionReference } from "convex/server";
import { RETENTION_INTERVAL_MS, SWEEP_INTERVAL_MS } from "./lib/constants";

const sweep = makeFunctionReference<"mutation", Record<string, never>>("admin:sweep");
const deleteExpired = makeFunctionReference<"mutation", Record<string, never>>("admin:deleteExpired");

const crons = cronJobs();
crons.interval("requeue abandoned messages and mark silent workers offline", { seconds: SWEEP_INTERVAL_MS / 1000 }, sweep, {});
crons.interval("delete sessions and revoked workers past retention", { seconds: RETENTION_INTERVAL_MS / 1000 }, deleteExpired, {});

export default crons;
