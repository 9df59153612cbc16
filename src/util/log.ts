// Logs go to stderr (stdout is for command output). Every line can carry a scope — the
// worker's name — and is redacted before it is written.
import { writeSync } from "node:fs";
import { makePalette, colorEnabled, type Palette } from "./colors.ts";
import { errorMessage } from "./errors.ts";
import { redact } from "./redact.ts";
import { safeJson, safeText } from "./terminal-text.ts";

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogFields = Record<string, unknown>;

export type Logger = {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  /** A logger whose lines are prefixed with `scope` (e.g. a worker name). */
  child(scope: string): Logger;
  readonly level: LogLevel;
};

export type LogSink = (line: string) => void;

export type LoggerOptions = {
  level?: LogLevel;
  format?: LogFormat;
  sink?: LogSink;
  colors?: Palette;
  scope?: string;
  /** Include timestamps in text lines (off on a TTY for readability, on otherwise). */
  timestamps?: boolean;
};

const RESERVED = new Set(["time", "level", "worker", "msg"]);

// Lines for a stderr that is a pipe or file wait for the end of the current task (a microtask
// queued behind the work already queued) and leave in one write: a hundred workers starting
// log a hundred lines in one task, and every write to a pipe wakes its reader. They are out
// before any later I/O is handled, so a status response never overtakes the line of the
// change it shows. Whatever else writes to stderr calls flushLogs() first, so the order holds;
// the entry point flushes what is left, blocking, when the process exits (flushLogsAtExit).
// On a terminal each line is written at once: prompts draw there too.
let buffered: string[] = [];
let flushScheduled = false;

/** Write the lines logged so far (call before writing to stderr by other means). */
export function flushLogs(): void {
  flushScheduled = false;
  if (buffered.length === 0) return;
  const text = buffered.join("");
  buffered = [];
  process.stderr.write(text);
}

/** On exit: a stream write would not finish, so the rest goes out with a blocking write. */
export function flushLogsAtExit(): void {
  if (buffered.length === 0) return;
  const text = buffered.join("");
  buffered = [];
  try {
    writeSync(2, text);
  } catch {
    process.stderr.write(text); // a non-blocking stderr that is full: the best left to do
  }
}

function stderrSink(line: string): void {
  buffered.push(line + "\n");
  if (flushScheduled) return;
  flushScheduled = true;
  queueMicrotask(flushLogs);
}

const rank: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? "info";
  const format = opts.format ?? "text";
  const sink = opts.sink ?? (process.stderr.isTTY ? (line: string) => void process.stderr.write(line + "\n") : stderrSink);
  const colors = opts.colors ?? makePalette(colorEnabled(process.stderr));
  const timestamps = opts.timestamps ?? !process.stderr.isTTY;

  function write(lvl: LogLevel, msg: string, fields?: LogFields): void {
    if (rank[lvl] > rank[level]) return;
    if (format === "json") {
      const record: LogFields = { time: new Date().toISOString(), level: lvl };
      if (opts.scope) record.worker = opts.scope;
      record.msg = msg;
      // A field never replaces time, level, worker or msg: "worker" must stay the scope's name.
      if (fields) for (const [k, v] of Object.entries(fields)) record[RESERVED.has(k) ? `${k}_` : k] = v instanceof Error ? errorMessage(v) : v;
      sink(redact(safeJson(record)));
      return;
    }
    const parts: string[] = [];
    if (timestamps) parts.push(colors.dim(new Date().toISOString()));
    const tag = lvl === "error" ? colors.error("error") : lvl === "warn" ? colors.warn("warn ") : lvl === "debug" ? colors.dim("debug") : colors.info("info ");
    parts.push(tag);
    // Messages carry text from the other side (backend errors, OpenCode output): no control
    // sequence reaches the terminal, only the palette's own colors.
    if (opts.scope) parts.push(colors.name(`[${safeText(opts.scope)}]`));
    parts.push(safeText(msg));
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        const s = v instanceof Error ? errorMessage(v) : typeof v === "string" ? v : JSON.stringify(v);
        parts.push(colors.dim(`${k}=`) + (/\s/.test(s) ? safeJson(s) : safeText(s)));
      }
    }
    sink(redact(parts.join(" ")));
  }

  return {
    level,
    error: (m, f) => write("error", m, f),
    warn: (m, f) => write("warn", m, f),
    info: (m, f) => write("info", m, f),
    debug: (m, f) => write("debug", m, f),
    child: (scope) => createLogger({ ...opts, level, format, sink, colors, timestamps, scope: opts.scope ? `${opts.scope}/${scope}` : scope }),
  };
}

/** A logger that drops everything (for commands whose output must stay clean). */
export const silentLogger: Logger = createLogger({ sink: () => {}, level: "error" });
