// `dev`: one worker from .env / the environment, working in the current folder — run by
// the same manager as `orchestrate`, not a second code path.
import { loadDevConfig } from "../config/dev-config.ts";
import type { CommandContext } from "./command.ts";
import { runWorkers } from "./run-workers.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const config = await loadDevConfig({
    envFile: typeof ctx.flags["env-file"] === "string" ? ctx.flags["env-file"] : undefined,
    cwd: process.cwd(),
    env: process.env,
    interactive: ctx.interactive,
    prompter: async () => (await import("./ui/prompts.ts")).createPrompter(),
  });
  return runWorkers(ctx, config);
}
