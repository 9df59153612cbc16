// The requests this process waits on for a person's answer, each settled exactly once: by the
// person, or without them (nobody answered in time or the worker stops: rejected; its turn is
// over: expired). A person's answer that got in first still wins over the rejection.
import type { WorkerRequestView } from "../backend/api.ts";
import { backendErrorMessage } from "../backend/errors.ts";
import type { WorkerBackend } from "../backend/worker-client.ts";
import { errorMessage } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import type { PersonAnswer, PersonAsk } from "./requests.ts";
import type { Watchdog } from "./watchdog.ts";

export type Wait = { ask: PersonAsk; requestId: string; settled: boolean; timer?: ReturnType<typeof setTimeout>; release: () => void; resolve: (a: PersonAnswer) => void };

/** "15m", "1m30s", "2h": how long a person had. */
export function formatWait(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${sec || s === 0 ? `${sec}s` : ""}`;
}

export function answerOf(v: WorkerRequestView): PersonAnswer {
  if (v.status === "answered") return { status: "answered", requestId: v.requestId, reply: v.reply === "always" ? "always" : "once", answers: v.answers };
  if (v.status === "rejected") return { status: "rejected", requestId: v.requestId, message: v.message, reason: v.reason };
  return { status: "expired", requestId: v.requestId, reason: v.reason ?? "the request ended without an answer" };
}

export type Settlement = "delivered" | "rejected" | "expired";
export type Backend = { backend: () => WorkerBackend | null; log: Logger };

/** Records how a request ended; null when the backend could not be told (it closes what is left open when the message ends). */
export async function settleRequest(o: Backend, requestId: string, outcome: Settlement, reason?: string): Promise<WorkerRequestView | null> {
  const b = o.backend();
  if (!b) return null;
  try {
    return await b.settleRequest(requestId, outcome, reason);
  } catch (e) {
    o.log.warn("could not record how a request ended", { requestId, outcome, error: backendErrorMessage(e) });
    return null;
  }
}

/**
 * Hands the answer to whoever waits (ask.deliver) and, for a person's answer, records that it
 * was delivered, or expired when OpenCode no longer knows the request. Never throws.
 */
export async function handOverAnswer(o: Backend, ask: PersonAsk, answer: PersonAnswer, byPerson: boolean): Promise<PersonAnswer> {
  let outcome: "delivered" | "unknown" = "delivered";
  try {
    if (ask.deliver) outcome = await ask.deliver(answer);
  } catch (e) {
    o.log.warn("could not hand the answer to OpenCode", { requestId: answer.requestId, error: errorMessage(e) });
    outcome = "unknown";
  }
  if (!byPerson || answer.requestId === "") return answer;
  const gone = "OpenCode no longer knows this request";
  await settleRequest(o, answer.requestId, outcome === "delivered" ? "delivered" : "expired", outcome === "delivered" ? undefined : gone);
  return outcome === "delivered" ? answer : { status: "expired", requestId: answer.requestId, reason: gone };
}

export type Waits = {
  /** Waits for the person's answer to a raised request, up to the timeout; `resolve` gets how it ended. */
  open(ask: PersonAsk, requestId: string, resolve: (a: PersonAnswer) => void): Wait;
  get(requestId: string): Wait | undefined;
  all(): Wait[];
  /** Marks the wait settled and ends it; false when it already was. */
  take(w: Wait): boolean;
  /** The person answered: hand it over and record it. */
  fromPerson(w: Wait, v: WorkerRequestView): Promise<void>;
  /** Nobody answered: rejected (timeout, stop) or expired (its turn is over), unless the person's answer got in first. */
  withoutPerson(w: Wait, reason: string, outcome?: "rejected" | "expired"): Promise<void>;
};

export function createWaits(o: Backend & { timeoutMs: number; watchdog: Pick<Watchdog, "hold"> }): Waits {
  const { log } = o;
  const waits = new Map<string, Wait>();
  const handOver = (ask: PersonAsk, answer: PersonAnswer, byPerson: boolean) => handOverAnswer(o, ask, answer, byPerson);

  function take(w: Wait): boolean {
    if (w.settled) return false;
    w.settled = true;
    clearTimeout(w.timer);
    waits.delete(w.requestId);
    w.release();
    return true;
  }

  async function fromPerson(w: Wait, v: WorkerRequestView): Promise<void> {
    if (!take(w)) return;
    log.info("a person answered", { requestId: w.requestId, status: v.status, reply: v.reply ?? undefined });
    w.resolve(await handOver(w.ask, answerOf(v), true));
  }

  async function withoutPerson(w: Wait, reason: string, outcome: "rejected" | "expired" = "rejected"): Promise<void> {
    if (!take(w)) return;
    const v = await settleRequest(o, w.requestId, outcome, reason);
    if (v && !v.delivered && (v.status === "answered" || v.status === "rejected")) {
      w.resolve(await handOver(w.ask, answerOf(v), true));
      return;
    }
    log.info(`request ${outcome} without a person`, { requestId: w.requestId, reason });
    const answer: PersonAnswer = outcome === "expired" ? { status: "expired", requestId: w.requestId, reason } : { status: "rejected", requestId: w.requestId, message: null, reason };
    w.resolve(await handOver(w.ask, answer, false));
  }

  function open(ask: PersonAsk, requestId: string, resolve: (a: PersonAnswer) => void): Wait {
    const w: Wait = { ask, requestId, settled: false, release: o.watchdog.hold(ask.messageId), resolve };
    waits.set(requestId, w);
    w.timer = setTimeout(() => void withoutPerson(w, `nobody answered within ${formatWait(o.timeoutMs)}`), o.timeoutMs);
    w.timer.unref?.();
    return w;
  }

  return { open, get: (id) => waits.get(id), all: () => [...waits.values()], take, fromPerson, withoutPerson };
}
