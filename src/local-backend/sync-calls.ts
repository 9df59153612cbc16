// Mutation and Action messages: run the function and answer with its response. A client
// retries a mutation after a reconnect, so mutations run once per session and request id.
import type { JSONValue } from "convex/values";
import type { Caller, Engine } from "./engine.ts";
import type { RequestMemo } from "./request-memo.ts";
import { encodeTs } from "./timestamp.ts";

export type CallContext = {
  engine: Engine;
  memo: RequestMemo;
  /** Who the session is at the time the message arrived. */
  caller: Caller;
  sessionId: string | undefined;
  /** Passed to the engine so the session can tell its own commits from others'. */
  origin: unknown;
  send(message: object): void;
  /** Queue a Transition even if no query changed. */
  forceTransition(): void;
};

export async function callFunction(m: Record<string, unknown>, kind: "mutation" | "action", ctx: CallContext): Promise<void> {
  const { engine, send } = ctx;
  const requestId = m.requestId as number;
  const as = ctx.caller;
  const args = Array.isArray(m.args) ? ((m.args[0] ?? {}) as JSONValue) : {};
  const invoke = () => engine.call({ udfPath: String(m.udfPath), args, kind, caller: as }, { origin: ctx.origin });
  // Only mutations are retried by the client after a reconnect; actions never are.
  const outcome = kind === "mutation" && ctx.sessionId ? await ctx.memo.once(`${ctx.sessionId}|${requestId}`, invoke) : await invoke();
  const type = kind === "mutation" ? "MutationResponse" : "ActionResponse";
  if (outcome.success) {
    send({ type, requestId, success: true, result: outcome.value, logLines: outcome.logLines, ...(kind === "mutation" ? { ts: encodeTs(outcome.ts ?? engine.ts) } : {}) });
    // The client resolves a mutation only once a Transition reaches its timestamp, and it
    // must come after the response: send one even if no query changed.
    if (kind === "mutation") ctx.forceTransition();
  } else {
    send({ type, requestId, success: false, result: outcome.errorMessage, logLines: outcome.logLines, ...(outcome.errorData !== undefined ? { errorData: outcome.errorData } : {}) });
  }
}
