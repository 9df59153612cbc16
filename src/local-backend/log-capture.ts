// Function output (`console.log` inside a query, mutation or action) becomes the log lines
// of the response, as on a real deployment, instead of landing on this process's stdout —
// where the `backend` command promises exactly two lines.
//
// How: convex-test runs every handler inside its own per-call store of global overrides,
// and an assignment to `globalThis.console` inside a handler lands in that store only. So
// each handler is wrapped to install a capturing console first. The lines go to the
// collector of the request that (directly or through ctx.runQuery/runMutation) ran it.
import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";
import type { ModuleMap } from "./functions.ts";

const requestLines = new AsyncLocalStorage<string[]>();

/** Run `fn`, appending the log lines of every function it runs to `into` (kept when it throws). */
export function collectLogLines<T>(into: string[], fn: () => Promise<T>): Promise<T> {
  return requestLines.run(into, fn);
}

/** Lines from functions outside any request (scheduled functions) go here. */
export type StrayLogSink = (line: string) => void;

const LEVELS = { log: "LOG", info: "INFO", debug: "DEBUG", warn: "WARN", error: "ERROR" } as const;

function capturingConsole(stray: StrayLogSink): Console {
  const target = requestLines.getStore();
  const emit = (level: string, args: unknown[]) => {
    const line = `[${level}] ${format(...args)}`;
    if (target) target.push(line);
    else stray(line);
  };
  const c: Record<string, unknown> = { ...console };
  for (const [method, level] of Object.entries(LEVELS)) c[method] = (...args: unknown[]) => emit(level, args);
  c.trace = (...args: unknown[]) => emit("LOG", args);
  return c as unknown as Console;
}

// Only when convex-test's proxy for `console` is installed does the assignment stay per-call;
// otherwise it would replace the process-wide console, so capture is skipped.
function consoleIsProxied(): boolean {
  return typeof Object.getOwnPropertyDescriptor(globalThis, "console")?.get === "function";
}

type WithHandler = { _handler?: unknown };

function wrapFunction(fn: object, stray: StrayLogSink): object {
  const handler = (fn as WithHandler)._handler;
  if (typeof handler !== "function") return fn;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    if (consoleIsProxied()) (globalThis as { console: Console }).console = capturingConsole(stray);
    return handler.apply(this, args);
  };
  // A shallow copy keeps the flags, validators and invoke* methods; the original stays untouched.
  const copy = Object.assign(typeof fn === "function" ? function () {} : {}, fn, { _handler: wrapped });
  return copy;
}

/** The same module map with every registered function's handler wrapped for log capture. */
export function captureModuleLogs(modules: ModuleMap, stray: StrayLogSink): ModuleMap {
  const out: ModuleMap = {};
  for (const [key, load] of Object.entries(modules)) {
    let cached: Promise<unknown> | undefined;
    out[key] = () =>
      (cached ??= load().then((mod) => {
        if (mod === null || typeof mod !== "object") return mod;
        const wrapped: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(mod)) {
          const isFunction = value !== null && (typeof value === "function" || typeof value === "object") && "_handler" in value;
          wrapped[name] = isFunction ? wrapFunction(value, stray) : value;
        }
        return wrapped;
      }));
  }
  return out;
}
