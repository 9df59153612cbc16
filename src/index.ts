#!/usr/bin/env node
// Entry point: argv → command. The only place that touches process signals, process.exit
// and the formatting of errors for people.
import pkg from "../package.json" with { type: "json" };
import { parseCommandArgs, type CommandContext, type Flags, type ShutdownSignal, type SignalName } from "./cli/command-spec.ts";
import { findCommand } from "./cli/command-table.ts";
import { readConfigEnv } from "./config/env.ts";
import { commandHelp, overviewHelp, usageLine } from "./cli/help.ts";
import { versionLine } from "./cli/version.ts";
import { stderrColors } from "./util/colors.ts";
import { ConfigError, EXIT, OrchestratorError, UsageError, Cancelled, errorMessage } from "./util/errors.ts";
import { killAllChildrenNow, stopAllChildren } from "./util/children.ts";
import { createLogger, flushLogs, flushLogsAtExit, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel, type Logger } from "./util/log.ts";
import { redact } from "./util/redact.ts";
import { safeText as t } from "./util/terminal-text.ts";

const VERSION: string = pkg.version;
// A reader that goes away (`status | head`) ends our output quietly, as pipes do, instead of
// crashing with EPIPE. Bun throws it from write(); Node emits it as an event. Commands see it
// through ctx.write (false once the reader is gone) and ctx.stdoutClosed.
const isBrokenPipe = (e: unknown) => (e as NodeJS.ErrnoException | null)?.code === "EPIPE";
let stdoutOpen = true;
let markStdoutClosed!: () => void;
const stdoutClosed = new Promise<void>((resolve) => (markStdoutClosed = resolve));
const closeStdout = () => {
  stdoutOpen = false;
  markStdoutClosed();
};
process.stdout.on("error", (e) => {
  if (isBrokenPipe(e)) closeStdout();
  else throw e;
});
const write = (text: string): boolean => {
  if (!stdoutOpen) return false;
  try {
    process.stdout.write(text);
    return true;
  } catch (e) {
    if (!isBrokenPipe(e)) throw e;
    closeStdout();
    return false;
  }
};
const out = (text: string) => void write(text.endsWith("\n") ? text : text + "\n");
const err = (text: string) => {
  flushLogs(); // log lines written before this text come before it
  process.stderr.write(text.endsWith("\n") ? text : text + "\n");
};
// Log lines still waiting for the end of the turn (util/log.ts) when the process exits.
process.on("exit", flushLogsAtExit);
// The last resort, whatever ends the process: no child outlives it.
process.on("exit", () => void killAllChildrenNow());

/** Log level and format: flags (checked where they are declared) win over the environment. */
function logSettings(flags: Flags): { level: LogLevel; format: LogFormat } {
  const env = readConfigEnv();
  const level = (flags["log-level"] as LogLevel | undefined) ?? env.logLevel ?? "info";
  const format = (flags["log-format"] as LogFormat | undefined) ?? env.logFormat ?? "text";
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`OPENCODE_ORCHESTRATOR_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")} (got "${level}")`);
  }
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`OPENCODE_ORCHESTRATOR_LOG_FORMAT must be one of ${LOG_FORMATS.join(", ")} (got "${format}")`);
  }
  return { level: level as LogLevel, format: format as LogFormat };
}

// ---- signals -------------------------------------------------------------------------
// 1st SIGINT/SIGTERM → handlers drain; 2nd → handlers cancel; 3rd → exit now (children
// killed synchronously). A repeat within DUPLICATE_WINDOW_MS is the same keypress
// forwarded twice by npm/bun/pnpm and counts once. SIGHUP is passed on uncounted.
const DUPLICATE_WINDOW_MS = 500;
const handlers = new Set<(s: ShutdownSignal) => void>();
let shutdownCount = 0;
let lastCountedAt = 0;
let installed = false;
let commandLog: Logger | undefined;

function onProcessSignal(signal: SignalName): void {
  if (signal === "SIGHUP") {
    for (const h of handlers) h({ signal, count: 0 });
    return;
  }
  const now = Date.now();
  if (shutdownCount > 0 && now - lastCountedAt < DUPLICATE_WINDOW_MS) return;
  lastCountedAt = now;
  shutdownCount++;
  if (shutdownCount >= 3) {
    const killed = killAllChildrenNow();
    const msg = `${signal} received a third time: exiting now${killed ? ` (killed ${killed} child process${killed > 1 ? "es" : ""})` : ""}.`;
    // Through the command's logger when there is one, so --log-format json stays JSON to the end.
    if (commandLog) commandLog.error(msg);
    else err(msg);
    process.exit(EXIT.failure);
  }
  for (const h of handlers) h({ signal, count: shutdownCount });
}

const listeners: Record<SignalName, () => void> = {
  SIGINT: () => onProcessSignal("SIGINT"),
  SIGTERM: () => onProcessSignal("SIGTERM"),
  SIGHUP: () => onProcessSignal("SIGHUP"),
};

function subscribeSignals(handler: (s: ShutdownSignal) => void): () => void {
  handlers.add(handler);
  if (!installed) {
    installed = true;
    for (const [sig, fn] of Object.entries(listeners)) process.on(sig, fn);
  }
  return () => {
    handlers.delete(handler);
    if (handlers.size === 0 && installed) {
      installed = false;
      for (const [sig, fn] of Object.entries(listeners)) process.off(sig, fn);
    }
  };
}

// ---- errors --------------------------------------------------------------------------
// Messages may quote what the other side sent (a backend's refusal, a file's content): each
// piece goes through safeText before the palette adds its own colors.
function formatError(e: unknown): { text: string; code: number } {
  const c = stderrColors();
  if (e instanceof Cancelled) return { text: c.dim("Cancelled. Nothing was written."), code: e.exitCode };
  if (e instanceof UsageError) {
    const spec = e.command ? findCommand(e.command) : undefined;
    return { text: `${c.error("error:")} ${t(e.message)}\n${usageLine(spec)}`, code: e.exitCode };
  }
  if (e instanceof ConfigError) {
    const lines = [`${c.error("error:")} ${t(e.message)}`];
    for (const i of e.issues) {
      // `file:line:column` for syntax errors; the field path alone when the headline already names the file.
      const lineCol = /^\d+:\d+$/.test(i.path);
      const file = i.file && (lineCol || i.file !== e.file || !i.path) ? i.file : "";
      const where = lineCol && file ? `${file}:${i.path}` : [file, i.path].filter(Boolean).join(": ");
      lines.push(`  ${where ? `${c.bold(t(where))}: ` : ""}${t(i.message)}`);
      if (i.fix) lines.push(`    ${c.dim("fix:")} ${t(i.fix)}`);
    }
    if (e.hint) lines.push(t(e.hint));
    return { text: lines.join("\n"), code: e.exitCode };
  }
  if (e instanceof OrchestratorError) {
    return { text: `${c.error("error:")} ${t(e.message)}${e.hint ? `\n${t(e.hint)}` : ""}`, code: e.exitCode };
  }
  const msg = errorMessage(e);
  const debug = readConfigEnv().debug ? `\n${(e as Error)?.stack ?? ""}` : "";
  return {
    text: `${c.error("error:")} unexpected failure: ${t(msg)}${t(debug)}\nSet OPENCODE_ORCHESTRATOR_DEBUG=1 for details, and please report it.`,
    code: EXIT.failure,
  };
}

/** The log format of the running command, once known, so a fatal error can match it. */
let logFormat: LogFormat = "text";

// ---- main ----------------------------------------------------------------------------
async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    if (first === "help" && rest[0]) {
      const spec = findCommand(rest[0]);
      if (!spec) throw new UsageError(`unknown command "${rest[0]}"`);
      out(commandHelp(spec));
      return EXIT.ok;
    }
    if (first === undefined) {
      err(overviewHelp(VERSION));
      return EXIT.usage;
    }
    out(overviewHelp(VERSION));
    return EXIT.ok;
  }
  if (first === "-v" || first === "--version" || first === "version") {
    out(versionLine(VERSION));
    return EXIT.ok;
  }
  if (first.startsWith("-")) throw new UsageError(`unknown flag "${first}"`);
  const spec = findCommand(first);
  if (!spec) throw new UsageError(`unknown command "${first}"`);
  const { flags, positionals } = parseCommandArgs(spec, rest);
  if (flags.help) {
    out(commandHelp(spec));
    return EXIT.ok;
  }
  const [min, max] = spec.positionals ?? [0, 0];
  if (positionals.length < min) throw new UsageError(`missing argument`, { command: spec.name });
  if (positionals.length > max) throw new UsageError(`unexpected argument "${positionals[max]}"`, { command: spec.name });
  const { level, format } = logSettings(flags);
  logFormat = format;
  const ctx: CommandContext = {
    flags,
    positionals,
    stdout: out,
    write,
    stdoutClosed,
    stderr: (t) => err(redact(t)),
    log: (commandLog = createLogger({ level, format })),
    onSignal: subscribeSignals,
    version: VERSION,
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
  };
  const mod = await spec.load();
  return mod.run(ctx);
}

/**
 * Children still running once the command is over (its stops should have ended them) are
 * stopped, gently first, before the process exits: none may outlive it.
 */
async function stopLeftoverChildren(): Promise<void> {
  const left = await stopAllChildren();
  if (left.length === 0) return;
  const msg = `stopped ${left.length} child process${left.length > 1 ? "es" : ""} still running at exit: ${left.join(", ")}`;
  if (commandLog) commandLog.warn(msg);
  else err(msg);
}

main(process.argv.slice(2)).then(
  async (code) => {
    process.exitCode = code;
    await stopLeftoverChildren();
    // Commands release their resources before returning; a leftover handle (a socket a
    // library keeps) must not keep a finished command alive.
    setTimeout(() => process.exit(code), 50).unref();
  },
  async (e) => {
    const { text, code } = formatError(e);
    if (logFormat === "json") {
      // A log collector reading JSON lines gets the fatal error as one more JSON line.
      const plain = text.replace(/\x1b\[[0-9;]*m/g, "");
      err(redact(JSON.stringify({ time: new Date().toISOString(), level: "error", msg: plain.split("\n")[0]!.replace(/^error: /, ""), detail: plain.split("\n").slice(1).join("\n") || undefined, exitCode: code })));
    } else err(redact(text));
    await stopLeftoverChildren();
    process.exit(code);
  },
);
