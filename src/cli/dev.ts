// `dev`: one worker from .env / the environment, working in the current folder — run by
// the same manager as `orchestrate`, not a second code path.
import { loadDevConfig } from "../config/dev-config.ts";
import type { CommandContext } from "./command-spec.ts";
import type { devOptions } from "./command-table.ts";
import { runWorkers } from "./run-workers.ts";

export async function run(ctx: CommandContext<typeof devOptions>): Promise<number> {
  const config = await loadDevConfig({
    envFile: ctx.flags["env-file"],
    cwd: process.cwd(),
    env: process.env,
    interactive: ctx.interactive,
    prompter: async () => (await import("./ui/prompts.ts")).createPrompter(),
  });
  return runWorkers(ctx, config);
}
