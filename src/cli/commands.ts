// Command table. Only metadata lives here; each command's module is imported lazily so
// `--help` and small commands don't pay for the backend, the agent or the prompts.
import type { CommandSpec } from "./command.ts";

const configFlag = {
  type: "string",
  value: "PATH",
  description: "workers.json to use (default: $XDG_CONFIG_HOME/opencode-orchestrator/workers.json; env OPENCODE_ORCHESTRATOR_CONFIG)",
} as const;

export const COMMANDS: CommandSpec[] = [
  {
    name: "validate",
    summary: "Check workers.json and show the workers it defines",
    usage: "validate [--config PATH] [--json]",
    details: "Loads workers.json exactly as `orchestrate` does. Exit 0 when valid, 78 when not. Never writes a file.",
    options: {
      config: configFlag,
      json: { type: "boolean", description: "Print one JSON object on stdout instead of a table" },
    },
    load: () => import("./validate.ts"),
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
