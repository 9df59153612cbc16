// Help text is built from the command table so it cannot drift from what is accepted.
import { valueLabel, type CommandSpec } from "./command-spec.ts";
import { COMMANDS } from "./command-table.ts";

export const PROGRAM = "opencode-orchestrator";

export const EXIT_CODES_TEXT = `Exit codes:
  0   success
  1   failure at run time
  2   usage error (unknown command or flag)
  78  configuration error (missing or invalid config, or a template was just written);
      dev: its worker needs a new token, or another process with the same token took it over`;

export function overviewHelp(version: string): string {
  const visible = COMMANDS.filter((c) => !c.hidden);
  const width = Math.max(...visible.map((c) => c.name.length));
  const lines = [
    `${PROGRAM} ${version} — run OpenCode coding-agent workers connected to a Convex backend`,
    "",
    `Usage: ${PROGRAM} <command> [flags]`,
    "",
    "Commands:",
    ...visible.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Flags:",
    "  -h, --help     Show help (also `<command> --help`)",
    "  -v, --version  Show the version",
    "",
    EXIT_CODES_TEXT,
  ];
  return lines.join("\n");
}

export function commandHelp(spec: CommandSpec): string {
  const opts = Object.entries(spec.options);
  const labels = opts.map(([name, o]) => {
    const value = valueLabel(o);
    return `${o.short ? `-${o.short}, ` : ""}--${name}${value ? ` ${value}` : ""}`;
  });
  const width = Math.max(10, ...labels.map((l) => l.length));
  const lines = [`Usage: ${PROGRAM} ${spec.usage}`, "", spec.summary + "."];
  if (spec.details) lines.push("", spec.details);
  lines.push("", "Flags:");
  opts.forEach(([, o], i) => lines.push(`  ${labels[i]!.padEnd(width)}  ${o.description}`));
  lines.push(`  ${"-h, --help".padEnd(width)}  Show this help`);
  lines.push("", EXIT_CODES_TEXT);
  return lines.join("\n");
}

export function usageLine(spec?: CommandSpec): string {
  return spec ? `Usage: ${PROGRAM} ${spec.usage}\nRun '${PROGRAM} ${spec.name} --help' for details.` : `Usage: ${PROGRAM} <command> [flags]\nRun '${PROGRAM} --help' for the list of commands.`;
}
