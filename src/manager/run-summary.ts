// The one summary a run prints once its workers settled (or after a wait, naming the slow ones).
import type { Run } from "./run.ts";

export function printSummary(run: Run, force = false): void {
  if (run.summaryPrinted) return;
  const { log } = run;
  const snaps = run.manager.snapshots();
  const settled = snaps.every((s) => !["starting", "registering"].includes(s.state));
  if (!settled && !force) return;
  run.summaryPrinted = true;
  const count = (pred: (s: (typeof snaps)[number]) => boolean) => snaps.filter(pred).length;
  const ready = count((s) => s.state === "ready" || s.state === "busy" || s.state === "paused");
  const waiting = count((s) => s.state === "awaiting_approval");
  const failed = snaps.filter((s) => s.state === "errored" || s.state === "needs_reauth" || s.state === "stopped");
  const starting = count((s) => s.state === "starting" || s.state === "registering");
  log.info(
    `${snaps.length} worker${snaps.length === 1 ? "" : "s"}: ${ready} ready, ${waiting} awaiting approval, ${failed.length} failed` +
      (starting ? `, ${starting} still connecting` : ""),
  );
  for (const f of failed) log.warn(`  ${f.name}: ${f.state}${f.lastError ? ` — ${f.lastError}` : ""}`);
  for (const c of snaps.filter((s) => s.state === "starting" || s.state === "registering")) {
    log.warn(`  ${c.name}: still connecting to ${c.convexUrl}`);
  }
}
