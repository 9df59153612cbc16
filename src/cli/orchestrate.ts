// `orchestrate`: every worker of workers.json in one supervised process, with hot reload
// (file change or SIGHUP) and the local status endpoint.
import { checkStatusAddress } from "../config/rules.ts";
import { resolveConfigPath } from "../config/paths.ts";
import { loadWorkersConfig } from "../config/workers-file.ts";
import { ConfigError, UsageError } from "../util/errors.ts";
import type { CommandContext } from "./command-spec.ts";
import { runWorkers } from "./run-workers.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const { path } = resolveConfigPath({ flag: typeof ctx.flags.config === "string" ? ctx.flags.config : undefined });
  const statusAddressFlag = typeof ctx.flags["status-address"] === "string" ? ctx.flags["status-address"] : undefined;
  if (statusAddressFlag !== undefined) {
    const r = checkStatusAddress(statusAddressFlag);
    if (!r.ok) throw new UsageError(`--status-address ${r.message} (${r.fix})`, { command: "orchestrate" });
  }
  // Missing file → template written, exit 78 (ConfigError) with what to do next. A worker
  // entry with problems of its own is left out and reported; the others start.
  const config = await loadWorkersConfig(path, { createTemplate: true, isolateWorkers: true, statusAddressFlag });
  for (const r of config.rejected) {
    // Scoped to the entry's name, so these lines carry it like every other line about a worker.
    const log = ctx.log.child(r.name);
    log.error(`not started (${r.origin}): fix it in ${path}`);
    for (const i of r.issues) log.error(`  ${i.path}: ${i.message}${i.fix ? ` — ${i.fix}` : ""}`);
  }
  // A reload is all-or-nothing: an edit that breaks anything new keeps the last good config
  // running. An entry that was already left out may stay broken, so fixing another worker
  // does not wait on it.
  let current = config;
  return runWorkers(ctx, config, async () => {
    const next = await loadWorkersConfig(path, { createTemplate: false, isolateWorkers: true, statusAddressFlag });
    const newlyBroken = next.rejected.filter((r) => !current.rejected.some((c) => c.origin === r.origin && c.name === r.name));
    if (newlyBroken.length > 0) {
      throw new ConfigError(`${path} has problems`, { file: path, issues: newlyBroken.flatMap((r) => r.issues) });
    }
    current = next;
    return next;
  });
}
