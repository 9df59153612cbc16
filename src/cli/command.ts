// The shape every command shares. Commands get what they need from the context instead of
// touching process signals or exiting themselves: src/index.ts owns both.
import type { Logger } from "../util/log.ts";

export type OptionSpec = {
  type: "string" | "boolean";
  short?: string;
  /** Shown in help, e.g. "PATH". */
  value?: string;
  description: string;
  multiple?: boolean;
};

export type CommandSpec = {
  name: string;
  summary: string;
  /** Usage line after the program name, e.g. "validate [--config PATH] [--json]". */
  usage: string;
  /** Longer text under the usage line. */
  details?: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments accepted: [min, max]. */
  positionals?: [number, number];
  /** Hidden commands work but are not listed in the overview help. */
  hidden?: boolean;
  load: () => Promise<{ run: (ctx: CommandContext) => Promise<number> }>;
};

export type SignalName = "SIGINT" | "SIGTERM" | "SIGHUP";

/**
 * A shutdown request as counted by src/index.ts: repeated signals within ~500 ms count once
 * (npm/bun/pnpm forward Ctrl+C a second time).
 */
export type ShutdownSignal = { signal: SignalName; count: number };

export type CommandContext = {
  /** Parsed flags (strings/booleans as declared in the spec). */
  flags: Record<string, string | boolean | string[] | undefined>;
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
