// The convex clients print to the console by default — reconnect chatter with console.log on
// stdout, which belongs to command output (a piped `chat` answer), and unscoped text between
// our (possibly JSON) log lines. Their messages repeat errors our callers already get and
// report, so they go to our logger at debug level, or nowhere.
import { errorMessage } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";

type ConvexLogger = {
  log: (...args: unknown[]) => void;
  warn: (...args: unknown[]) => void;
  error: (...args: unknown[]) => void;
  logVerbose: (...args: unknown[]) => void;
};

function line(args: unknown[]): string {
  return args
    .filter((a) => !(typeof a === "string" && a.startsWith("color:")))
    .map((a) => (typeof a === "string" ? a.replace(/%c/g, "") : a instanceof Error ? errorMessage(a) : JSON.stringify(a)))
    .join(" ")
    .trim();
}

export function convexLogger(log?: Logger): ConvexLogger {
  // The client reports every message it sends and receives: formatting them only to drop
  // them below debug level was ~4 % of orchestrate's CPU while 100 workers started.
  const debug = log?.level === "debug" ? (...args: unknown[]) => log.debug(`convex client: ${line(args)}`) : () => {};
  return { logVerbose: debug, log: debug, warn: debug, error: debug };
}
