// Typed, data-carrying errors. Deep code throws these; only src/index.ts turns them
// into text for people and into an exit code.

/** Exit codes, documented in README and `--help`. 78 = EX_CONFIG, so service managers stop restart-looping. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 78,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One problem in a config source, located precisely enough to fix it. */
export type ConfigIssue = {
  /** Absolute path of the file, or a label such as "environment". */
  file?: string;
  /** Field path such as `workers[1].working_directory`, or `line:column` for syntax errors. */
  path: string;
  message: string;
  /** What to do about it. */
  fix?: string;
};

export class OrchestratorError extends Error {
  readonly exitCode: ExitCode;
  /** A next step shown under the message. */
  readonly hint?: string;
  constructor(message: string, opts: { exitCode?: ExitCode; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = opts.exitCode ?? EXIT.failure;
    this.hint = opts.hint;
  }
}

/** Bad command line: unknown command or flag, missing argument. Exit 2. */
export class UsageError extends OrchestratorError {
  readonly command?: string;
  constructor(message: string, opts: { command?: string; hint?: string } = {}) {
    super(message, { exitCode: EXIT.usage, hint: opts.hint });
    this.command = opts.command;
  }
}

/** Missing or invalid configuration; carries every problem found at once. Exit 78. */
export class ConfigError extends OrchestratorError {
  readonly issues: ConfigIssue[];
  readonly file?: string;
  constructor(message: string, opts: { issues?: ConfigIssue[]; file?: string; hint?: string } = {}) {
    super(message, { exitCode: EXIT.config, hint: opts.hint });
    this.issues = opts.issues ?? [];
    this.file = opts.file;
  }
}

/** A run-time failure with a message fit for people (unreachable backend, revoked token, …). Exit 1. */
export class RuntimeFailure extends OrchestratorError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, { exitCode: EXIT.failure, ...opts });
  }
}

/** The user cancelled an interactive prompt: exit quietly, nothing written. */
export class Cancelled extends OrchestratorError {
  constructor() {
    super("Cancelled.", { exitCode: EXIT.failure });
  }
}

/** The one way a caught value becomes text for a person or a log. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A caught value as an Error (what rejection handlers that take an Error need). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
