// What running functions see of the engine (runtime.ts's Host): an action's top-level
// calls, each its own transaction, and scheduling from outside a mutation. Errors from a
// nested call come back to the calling function as its own kind of failure, stripped of
// the "Uncaught" prefix the outer call will add again.
import { docRec } from "./persistence.ts";
import { failureFromError } from "./failure.ts";
import { canonicalUdfPath, type FunctionIndex, type FunctionKind } from "./functions.ts";
import { execute, FunctionFailure, type Host, type Registered } from "./runtime.ts";
import { SCHEDULED_TABLE, type Doc, type Store } from "./store.ts";
import { committedValue, txWrite } from "./transaction.ts";
import type { QueryRunner } from "./query-runner.ts";
import type { Writer } from "./engine-writes.ts";

export function createHost(deps: { store: Store; index: FunctionIndex; queries: QueryRunner; writer: Writer }): Host {
  const { store, index, queries, writer } = deps;

  async function lookupKind(udfPath: string, kind: FunctionKind): Promise<Registered> {
    const found = await index.lookup(udfPath);
    if (!found || found.kind !== kind) throw new FunctionFailure(`Could not find ${kind} '${canonicalUdfPath(udfPath)}'`);
    return found.fn as Registered;
  }

  const host: Host = {
    store,
    async lookup(udfPath) {
      const found = await index.lookup(udfPath);
      return found && { udfPath: found.udfPath, kind: found.kind, fn: found.fn as Registered };
    },
    async runQuery(udfPath, args, caller, lines) {
      const r = await queries.run(await lookupKind(udfPath, "query"), args, caller, lines, host);
      if (r.error !== undefined) rethrow(r.error);
      return r.value!;
    },
    async runMutation(udfPath, args, caller, lines) {
      const fn = await lookupKind(udfPath, "mutation");
      try {
        return (await writer.transaction((tx) => execute(fn, "mutation", args, { host, tx, caller, lines }), undefined)).value;
      } catch (e) {
        rethrow(e);
      }
    },
    async runAction(udfPath, args, caller, lines) {
      const fn = await lookupKind(udfPath, "action");
      try {
        return await execute(fn, "action", args, { host, caller, lines });
      } catch (e) {
        rethrow(e);
      }
    },
    scheduleOutside: async (job) =>
      (
        await writer.transaction(async (tx) => {
          const id = store.newId(SCHEDULED_TABLE);
          txWrite(tx, SCHEDULED_TABLE, id, docRec(SCHEDULED_TABLE, { ...job, _id: id, _creationTime: writer.creationTime() } as Doc));
          return id;
        }, undefined)
      ).value,
    cancelOutside: async (id) => {
      await writer.transaction(async (tx) => {
        const rec = committedValue(tx, id);
        if (!rec || rec.table !== SCHEDULED_TABLE) return;
        const kind = (rec.value.state as { kind: string }).kind;
        if (kind !== "pending" && kind !== "inProgress") return;
        txWrite(tx, SCHEDULED_TABLE, id, docRec(SCHEDULED_TABLE, { ...rec.value, state: { kind: "canceled" }, completedTime: Date.now() }));
      }, undefined);
    },
    creationTime: () => writer.creationTime(),
  };
  return host;
}

function rethrow(e: unknown): never {
  const f = failureFromError(e);
  throw new FunctionFailure(f.errorMessage.replace(/^Uncaught (ConvexError: )?/, ""), f.errorData);
}
