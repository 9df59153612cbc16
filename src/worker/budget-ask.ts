// INTERIM, until the worker's request desk (src/worker/requests.ts, perm's branch) is merged:
// raises a budget request on the running message and waits for a person's answer through the
// requests API, rejecting it when nobody answers in time or the worker stops. The desk replaces
// this file; its askPerson has the same shape (AskPerson).
import type { WorkerRequestView } from "../backend/api.ts";
import { backendErrorMessage } from "../backend/errors.ts";
import type { WorkerBackend } from "../backend/worker-client.ts";
import type { Logger } from "../util/log.ts";
import type { ResourceStack } from "../util/resources.ts";
import type { AskPerson, BudgetAnswer } from "./budget.ts";

/** OpenCode's permission requests wait this long by default too (permission_timeout). */
const BUDGET_WAIT_MS = 15 * 60_000;

export function budgetAsker(o: { backend: () => WorkerBackend | null; instanceId: string; log: Logger; resources: ResourceStack }): AskPerson {
  const waits = new Map<string, (v: WorkerRequestView) => void>();
  let unsubscribe: (() => void) | null = null;
  const watch = (b: WorkerBackend) => {
    if (unsubscribe) return;
    unsubscribe = b.watchAnsweredRequests(
      (list) => {
        for (const v of list) waits.get(v.requestId)?.(v);
      },
      (e) => o.log.warn("watching answered requests failed", { error: backendErrorMessage(e) }),
    );
    o.resources.add("budget requests", () => {
      unsubscribe?.();
      for (const done of [...waits.values()]) done({ status: "rejected", reason: "the worker stopped" } as WorkerRequestView);
    });
  };
  const answerOf = (v: WorkerRequestView): BudgetAnswer =>
    v.status === "answered" ? { status: "answered" } : v.status === "rejected" ? { status: "rejected", message: v.message, reason: v.reason } : { status: "expired", reason: v.reason ?? "expired" };

  return async (ask) => {
    const b = o.backend();
    if (!b) return { status: "rejected", message: null, reason: "the worker is not connected to its backend" };
    let v: WorkerRequestView;
    try {
      watch(b);
      v = await b.raiseRequest(o.instanceId, ask.messageId, ask.content, ask.key);
    } catch (e) {
      return { status: "rejected", message: null, reason: `the request could not be shown to anyone (${backendErrorMessage(e)})` };
    }
    o.log.info("waiting for a person", { requestId: v.requestId, kind: ask.content.kind, title: ask.content.title });
    const final = v.status !== "pending" ? v : await new Promise<WorkerRequestView>((res) => {
      const timer = setTimeout(() => res({ ...v, status: "rejected", reason: `nobody answered within ${BUDGET_WAIT_MS / 60_000}m` }), BUDGET_WAIT_MS);
      waits.set(v.requestId, (x) => {
        clearTimeout(timer);
        waits.delete(v.requestId);
        res(x);
      });
    });
    const settled = final.status === "rejected" && final.reply !== "reject" ? "rejected" : "delivered";
    await b.settleRequest(v.requestId, settled, settled === "rejected" ? final.reason ?? "no answer" : undefined).catch(() => undefined);
    return answerOf(final);
  };
}
