// convex/ must implement exactly the contract in src/backend/api.ts, which everyone else codes
// against: names and visibility are checked here at run time; kinds, argument and result
// types by tsc on the type assertions below (references carry their kind only as a type).
import { describe, expect, test } from "bun:test";
import {
  getFunctionName,
  type FunctionArgs,
  type FunctionReference,
  type FunctionReturnType,
  type RegisteredAction,
  type RegisteredMutation,
  type RegisteredQuery,
} from "convex/server";
import { adminApi, BACKEND_ERRORS, chatApi, requestsApi, sessionsApi, workerApi, workerRequestsApi } from "../../src/backend/api.ts";
import * as admin from "../../convex/admin.ts";
import * as chat from "../../convex/chat.ts";
import * as requests from "../../convex/requests.ts";
import * as sessions from "../../convex/sessions.ts";
import * as workers from "../../convex/workers.ts";
import crons from "../../convex/crons.ts";
import { RETENTION_INTERVAL_MS, SWEEP_INTERVAL_MS } from "../../convex/lib/constants.ts";
import type { ErrorCode } from "../../convex/lib/errors.ts";
import { modules } from "../../src/local-backend/modules.ts";

// ---- Types: every caller's arguments are accepted, every result fits the declared type. ----
type Parts<Export> =
  Export extends RegisteredQuery<any, infer A, infer R>
    ? ["query", A, Awaited<R>]
    : Export extends RegisteredMutation<any, infer A, infer R>
      ? ["mutation", A, Awaited<R>]
      : Export extends RegisteredAction<any, infer A, infer R>
        ? ["action", A, Awaited<R>]
        : never;
type Fits<Api extends FunctionReference<any, any, any, any>, Export> =
  Parts<Export> extends [infer Kind, infer Args, infer Result]
    ? [Kind] extends [Api["_type"]]
      ? [FunctionArgs<Api>] extends [Args]
        ? [Result] extends [FunctionReturnType<Api>]
          ? true
          : { result: Result; declared: FunctionReturnType<Api> }
        : { args: Args; declared: FunctionArgs<Api> }
      : { kind: Kind }
    : "not a Convex function";
type ModuleOf<Name extends string> = Name extends "workers"
  ? typeof workers
  : Name extends "admin"
    ? typeof admin
    : Name extends "sessions"
      ? typeof sessions
      : Name extends "requests"
        ? typeof requests
        : typeof chat;
type AllFit<Group extends Record<string, FunctionReference<any, any, any, any>>, Mod extends string> = {
  [K in keyof Group & string]: K extends keyof ModuleOf<Mod> ? Fits<Group[K], ModuleOf<Mod>[K]> : "missing export";
};
type Expect<T extends Record<string, true>> = T;
export type ContractTypes = [
  Expect<AllFit<typeof workerApi, "workers">>,
  Expect<AllFit<typeof adminApi, "admin">>,
  Expect<AllFit<typeof chatApi, "chat">>,
  Expect<AllFit<typeof sessionsApi, "sessions">>,
  Expect<AllFit<typeof workerRequestsApi, "requests">>,
  Expect<AllFit<typeof requestsApi, "requests">>,
];
// Error codes thrown by convex/ are the ones the client recognises.
const codes: Record<ErrorCode, true> = {
  UNAUTHORIZED: true,
  WORKER_REVOKED: true,
  NOT_FOUND: true,
  CONFLICT: true,
  INVALID: true,
  WRONG_WORKER: true,
  ALREADY_ANSWERED: true,
};

// ---- Run time: names and visibility. ----
type Registered = { isQuery?: boolean; isMutation?: boolean; isAction?: boolean; isPublic?: boolean; isInternal?: boolean };

async function exportsOf(moduleName: string): Promise<Record<string, unknown>> {
  const load = modules[`convex/${moduleName}.ts`];
  if (!load) throw new Error(`module ${moduleName} is not in the module map`);
  return (await load()) as Record<string, unknown>;
}

function check(group: Record<string, FunctionReference<any, any, any, any>>, visibility: "public" | "internal") {
  for (const [key, ref] of Object.entries(group)) {
    test(`${getFunctionName(ref)} is a ${visibility} function`, async () => {
      const [moduleName, exportName] = getFunctionName(ref).split(":") as [string, string];
      expect(exportName).toBe(key);
      const fn = (await exportsOf(moduleName))[exportName] as Registered | undefined;
      expect(fn).toBeDefined();
      expect(Boolean(fn!.isQuery || fn!.isMutation || fn!.isAction)).toBe(true);
      expect(visibility === "public" ? fn!.isPublic : fn!.isInternal).toBe(true);
    });
  }
}

describe("contract with src/backend/api.ts", () => {
  check(workerApi, "public");
  check(adminApi, "internal");
  check(chatApi, "internal");
  check(sessionsApi, "internal");
  check(workerRequestsApi, "public");
  check(requestsApi, "internal");

  test("the only public functions are the worker-facing ones", async () => {
    const declared = new Set([...Object.values(workerApi), ...Object.values(workerRequestsApi)].map((ref) => getFunctionName(ref)));
    for (const moduleName of ["workers", "admin", "chat", "requests", "sessions"]) {
      for (const [name, value] of Object.entries(await exportsOf(moduleName))) {
        if ((value as Registered).isPublic) expect(declared.has(`${moduleName}:${name}`)).toBe(true);
      }
    }
  });

  // crons.ts is not in the module map (convex-test cannot run crons), so check its jobs here.
  test("the deployed crons run admin:sweep every minute and admin:deleteExpired every hour", async () => {
    const jobs = Object.values(crons.crons) as { name: string; args: unknown[]; schedule: { type: string; seconds?: number } }[];
    expect(jobs.map((j) => [j.name, j.schedule, j.args])).toEqual([
      [getFunctionName(adminApi.sweep), { type: "interval", seconds: SWEEP_INTERVAL_MS / 1000 }, [{}]],
      [getFunctionName(adminApi.deleteExpired), { type: "interval", seconds: RETENTION_INTERVAL_MS / 1000 }, [{}]],
    ]);
    for (const name of ["sweep", "deleteExpired"]) expect(((await exportsOf("admin"))[name] as Registered).isMutation).toBe(true);
  });

  test("error codes match BACKEND_ERRORS", () => {
    expect(Object.keys(codes).sort()).toEqual(Object.values(BACKEND_ERRORS).sort());
  });
});
