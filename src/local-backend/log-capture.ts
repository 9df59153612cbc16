// Function output (`console.log` inside a query, mutation or action) becomes the log lines
// of the response, as on a real deployment, instead of landing on this process's stdout —
// where the `backend` command promises exactly two lines.
//
// How: the process's console is wrapped once; each method looks up the running function
// (an AsyncLocalStorage store set around every function execution) and appends the line to
// its request's collector. Outside a function it is the plain console.
import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";

/** Where a running function's lines go. */
export type LineSink = (line: string) => void;

const current = new AsyncLocalStorage<LineSink>();

/** Run `fn` with every console line of the functions it runs sent to `sink`. */
export function withLogSink<T>(sink: LineSink, fn: () => T): T {
  installConsoleCapture();
  return current.run(sink, fn);
}

const LEVELS = { log: "LOG", info: "INFO", debug: "DEBUG", warn: "WARN", error: "ERROR", trace: "LOG" } as const;
let installed = false;

function installConsoleCapture(): void {
  if (installed) return;
  installed = true;
  const target = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const [method, level] of Object.entries(LEVELS)) {
    const original = target[method]!.bind(console);
    target[method] = (...args: unknown[]) => {
      const sink = current.getStore();
      if (sink) sink(`[${level}] ${format(...args)}`);
      else original(...args);
    };
  }
}
