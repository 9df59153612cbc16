// How scheduled functions and crons (schedules.ts) reach the engine: each job runs as an
// admin in its own transaction, between other mutations, and its log lines go to the
// backend's debug log since no client is waiting for them.
import type { Logger } from "../util/log.ts";
import type { FunctionIndex } from "./functions.ts";
import { execute, type Caller, type Host, type Registered } from "./runtime.ts";
import type { SchedulesDeps } from "./schedules.ts";
import type { Store } from "./store.ts";
import type { Writer } from "./engine-writes.ts";

export function scheduleDeps(deps: { store: Store; index: FunctionIndex; host: Host; writer: Writer; log?: Logger; crons: boolean }): SchedulesDeps {
  const { store, index, host, writer, log } = deps;
  return {
    store,
    crons: deps.crons ? index.module("crons") : Promise.resolve(undefined),
    log,
    transact: async (work) => (await writer.transaction(async (tx) => work(tx, writer.creationTime), undefined)).value,
    kindOf: async (name) => (await index.lookup(name))?.kind,
    runFunction: async (name, args, inside) => {
      const found = await index.lookup(name);
      if (!found) throw new Error(`Could not find function '${name}'`);
      const lines: string[] = [];
      const fn = found.fn as Registered;
      const caller: Caller = { admin: true };
      try {
        if (found.kind === "mutation") {
          await writer.transaction(async (tx) => {
            if (inside && !inside.before(tx)) return;
            await execute(fn, "mutation", args, { host, tx, caller, lines });
            inside?.after(tx);
          }, undefined);
          return;
        }
        if (found.kind === "action") return void (await execute(fn, "action", args, { host, caller, lines }));
        throw new Error(`${name} is a query; only mutations and actions can be scheduled`);
      } finally {
        for (const line of lines) log?.debug(`function log (${name}): ${line}`);
      }
    },
  };
}
