// Hot reload of a foreground run (file change, SIGHUP): a bad config is rejected whole and the
// run goes on with the last good one.
import { ConfigError, errorMessage } from "../util/errors.ts";
import type { Run } from "./run.ts";

export async function reloadConfig(run: Run, trigger: string): Promise<void> {
  const { o, log, manager } = run;
  if (!o.reloadConfig || run.shuttingDown) return;
  try {
    const next = await o.reloadConfig();
    for (const w of next.warnings) log.warn(`${w.path}: ${w.message}`);
    if (next.statusAddress !== manager.config.statusAddress) {
      // The endpoint keeps its socket: moving it would drop what monitors it mid-flight.
      log.warn(`status_address changed to ${next.statusAddress ?? "off"}: it takes effect at the next start`);
    }
    const r = manager.reload(next);
    log.info(`config reloaded (${trigger})`, {
      added: r.added.join(",") || undefined,
      removed: r.removed.join(",") || undefined,
      changed: r.changed.join(",") || undefined,
      unchanged: r.unchanged.length,
    });
  } catch (e) {
    const errors =
      e instanceof ConfigError ? e.issues.map((i) => `${i.path}: ${i.message}`) : [errorMessage(e)];
    manager.recordFailedReload(errors);
    log.error(`config change rejected (${trigger}); still running on the last good config`);
    for (const line of errors) log.error(`  ${line}`);
  }
}
