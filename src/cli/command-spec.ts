// The shape every command shares: its declaration (flags with their types and allowed values,
// from which both parsing and help are derived) and the context it runs in. Commands get what
// they need from the context instead of touching process signals or exiting themselves:
// src/index.ts owns both.
import { parseArgs } from "node:util";
import { UsageError } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";

type OptionCommon = {
  short?: string;
  /** Shown in help after the flag, e.g. "PATH" (choices show as a|b|c by default). */
  value?: string;
  description: string;
};

export type OptionSpec =
  | (OptionCommon & { type: "string"; multiple?: boolean })
  | (OptionCommon & { type: "boolean" })
  | (OptionCommon & { type: "choice"; choices: readonly string[] })
  | (OptionCommon & { type: "number"; min: number; max: number; integer?: boolean });

export type OptionSpecs = Record<string, OptionSpec>;

type FlagValue<O extends OptionSpec> = O extends { type: "boolean" }
  ? boolean
  : O extends { type: "number" }
    ? number
    : O extends { type: "choice"; choices: readonly (infer C)[] }
      ? C
      : O extends { multiple: true }
        ? string[]
        : // Only the general OptionSpec (any command's flags) may be either.
          O extends { multiple?: infer M }
          ? boolean extends M
            ? string | string[]
            : string
          : string;

/** The parsed flags of a command, typed from its declaration; a flag not given is undefined. */
export type Flags<O extends OptionSpecs = OptionSpecs> = { [K in keyof O]?: FlagValue<O[K]> } & { help?: boolean };

export type CommandSpec<O extends OptionSpecs = OptionSpecs> = {
  name: string;
  summary: string;
  /** Usage line after the program name, e.g. "validate [--config PATH] [--json]". */
  usage: string;
  /** Longer text under the usage line. */
  details?: string;
  options: O;
  /** Positional arguments accepted: [min, max]. */
  positionals?: [number, number];
  /** Hidden commands work but are not listed in the overview help. */
  hidden?: boolean;
  load: () => Promise<{ run: (ctx: CommandContext<any>) => Promise<number> }>;
};

/** Declares a command, keeping its option types for the command's own context type. */
export const defineCommand = <O extends OptionSpecs>(spec: CommandSpec<O>): CommandSpec<O> => spec;

export type SignalName = "SIGINT" | "SIGTERM" | "SIGHUP";

/**
 * A shutdown request as counted by src/index.ts: repeated signals within ~500 ms count once
 * (npm/bun/pnpm forward Ctrl+C a second time).
 */
export type ShutdownSignal = { signal: SignalName; count: number };

export type CommandContext<O extends OptionSpecs = OptionSpecs> = {
  /** Flags as declared in the command's spec, already checked and converted. */
  flags: Flags<O>;
  positionals: string[];
  /** Command output (tables, JSON). */
  stdout: (text: string) => void;
  /** Raw command output (no newline added); false once the reader has gone (`… | head`). */
  write: (text: string) => boolean;
  /** Resolves when the reader of stdout has gone. */
  stdoutClosed: Promise<void>;
  /** Messages for people (not logs). */
  stderr: (text: string) => void;
  log: Logger;
  /** Subscribe to SIGINT/SIGTERM (counted) and SIGHUP. Returns an unsubscribe function. */
  onSignal: (handler: (s: ShutdownSignal) => void) => () => void;
  version: string;
  /** Whether stdin and stderr are terminals (interactive prompts allowed). */
  interactive: boolean;
};

/** The help label of a flag's value: its declared name, or the choices. */
export function valueLabel(o: OptionSpec): string | undefined {
  if (o.value) return o.value;
  if (o.type === "choice") return o.choices.join("|");
  if (o.type === "number") return "N";
  return o.type === "string" ? "VALUE" : undefined;
}

function convert(name: string, o: OptionSpec, raw: string, command: string): string | number {
  if (raw.trim() === "") throw new UsageError(`--${name} needs a value`, { command });
  if (o.type === "choice") {
    if (!o.choices.includes(raw)) throw new UsageError(`--${name} must be one of ${o.choices.join(", ")} (got "${raw}")`, { command });
    return raw;
  }
  if (o.type === "number") {
    const n = Number(raw);
    const whole = o.integer ? /^\d+$/.test(raw.trim()) : Number.isFinite(n);
    if (!whole || n < o.min || n > o.max) {
      throw new UsageError(`--${name} must be a ${o.integer ? "whole number" : "number"} from ${o.min} to ${o.max} (got "${raw}")`, { command });
    }
    return n;
  }
  return raw;
}

/** argv after the command name → typed flags and positionals, or a UsageError naming the flag. */
export function parseCommandArgs<O extends OptionSpecs>(spec: CommandSpec<O>, argv: string[]): { flags: Flags<O>; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, o] of Object.entries(spec.options)) {
    const multiple = o.type === "string" && o.multiple;
    options[name] = { type: o.type === "boolean" ? "boolean" : "string", ...(o.short ? { short: o.short } : {}), ...(multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    // node:util's messages are precise ("Unknown option '--x'"); keep them, add usage.
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ""), { command: spec.name });
  }
  const flags: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    const o = spec.options[name];
    flags[name] = o && typeof value === "string" ? convert(name, o, value, spec.name) : value;
  }
  return { flags: flags as Flags<O>, positionals: parsed.positionals };
}
