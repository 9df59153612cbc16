import type { CommandContext } from "./command.ts";
export async function run(ctx: CommandContext): Promise<number> {
  ctx.stderr("validate: not yet");
  return 1;
}
