// The worker's side of requests a person answers (permission requests, questions, budget
// requests): publish one on the running message, wait for the person's answer, hand it over
// once and record that it was. Nothing waits for ever: a request nobody answers within the
// permission timeout is rejected with that reason, and so are the open ones when the worker
// stops or their answer ends.
import type { AgentAsk, AgentReply } from "../agent/index.ts";
import type { RequestContent, RequestReply, WorkerRequestView } from "../backend/api.ts";
import { backendErrorMessage } from "../backend/errors.ts";
import type { WorkerBackend } from "../backend/worker-client.ts";
import type { Logger } from "../util/log.ts";
import { answerOf, createWaits, handOverAnswer, settleRequest, type Settlement } from "./request-waits.ts";
import type { Watchdog } from "./watchdog.ts";

/** How a request ended for the one who asked. */
export type PersonAnswer =
  | { status: "answered"; requestId: string; reply: Exclude<RequestReply, "reject">; answers: string[][] | null }
  /** Refused by the person (`message` is theirs) or by the worker (`reason`: timeout, stopping). */
  | { status: "rejected"; requestId: string; message: string | null; reason: string | null }
  /** OpenCode (or the run) no longer waits for it. */
  | { status: "expired"; requestId: string; reason: string };

export type PersonAsk = {
  /** The running message the request belongs to (this process must hold it). */
  messageId: string;
  content: RequestContent;
  /** Idempotency key within the message: OpenCode's request id, or your own (e.g. "budget:turn:2"). */
  key?: string;
  /**
   * Hands the answer to whoever waits for it (OpenCode); called once, also for a rejection by
   * timeout or stop. "unknown": it no longer knows the request (recorded as expired). Without
   * it, the answer counts as delivered once askPerson resolves.
   */
  deliver?: (a: PersonAnswer) => Promise<"delivered" | "unknown">;
};

export type RequestDesk = {
  /** Raises a request and resolves with how it ended; never rejects, never waits past the timeout. */
  askPerson(ask: PersonAsk): Promise<PersonAnswer>;
  /** The backend's list of answered, undelivered requests (the worker's subscription). */
  onAnswered(list: WorkerRequestView[]): void;
  /** Expires the open requests of one message with `reason`: its turn is over, nobody waits for them. */
  closeMessage(messageId: string, reason: string): Promise<void>;
  /** Rejects every open request with `reason`, and any raised from now on (the worker stops). */
  rejectAll(reason: string): Promise<void>;
  /** OpenCode settled a request by itself (an "always" for another covers it): nobody needs to answer. */
  endedInAgent(messageId: string, key: string): Promise<void>;
};

export function createRequestDesk(o: {
  backend: () => WorkerBackend | null;
  instanceId: string;
  timeoutMs: number;
  watchdog: Pick<Watchdog, "hold">;
  /** This process runs the message now (an answer for one it does not run has nobody to reach). */
  running: (messageId: string) => boolean;
  log: Logger;
}): RequestDesk {
  const { log } = o;
  const waits = createWaits(o);
  // The backend's answered requests as last seen: an answer may arrive before its wait is open.
  let latest = new Map<string, WorkerRequestView>();
  let closing: string | null = null;

  const settle = (requestId: string, outcome: Settlement, reason?: string) => settleRequest(o, requestId, outcome, reason);
  const handOver = (ask: PersonAsk, answer: PersonAnswer, byPerson: boolean) => handOverAnswer(o, ask, answer, byPerson);

  async function askPerson(ask: PersonAsk): Promise<PersonAnswer> {
    const b = o.backend();
    let v: WorkerRequestView;
    try {
      if (!b) throw new Error("the worker is not connected to its backend");
      v = await b.raiseRequest(o.instanceId, ask.messageId, ask.content, ask.key);
    } catch (e) {
      const reason = `the request could not be shown to anyone (${backendErrorMessage(e)})`;
      log.warn("could not publish a request; rejecting it", { title: ask.content.title, error: backendErrorMessage(e) });
      return await handOver(ask, { status: "rejected", requestId: "", message: null, reason }, false);
    }
    // Seen again (a retry, a reconnect): it may already be over.
    if (v.status !== "pending") return v.delivered ? answerOf(v) : await handOver(ask, answerOf(v), true);
    log.info("waiting for a person", { requestId: v.requestId, kind: ask.content.kind, title: ask.content.title });
    return await new Promise<PersonAnswer>((resolve) => {
      const w = waits.open(ask, v.requestId, resolve);
      const seen = latest.get(v.requestId);
      if (closing !== null) void waits.withoutPerson(w, closing);
      else if (seen) void waits.fromPerson(w, seen);
    });
  }

  return {
    askPerson,
    onAnswered(list) {
      latest = new Map(list.map((v) => [v.requestId, v]));
      for (const v of list) {
        const w = waits.get(v.requestId);
        if (w) void waits.fromPerson(w, v);
        // An answer for a run this process no longer holds reaches nobody; a run it holds may
        // still be raising it (the wait is registered when raise returns).
        else if (!o.running(v.messageId)) void settle(v.requestId, "expired", "the worker no longer runs this answer");
      }
    },
    async closeMessage(messageId, reason) {
      await Promise.all(waits.all().filter((w) => w.ask.messageId === messageId).map((w) => waits.withoutPerson(w, reason, "expired")));
    },
    async endedInAgent(messageId, key) {
      const w = waits.all().find((x) => x.ask.messageId === messageId && x.ask.key === key);
      if (!w || !waits.take(w)) return;
      const reason = "OpenCode settled it itself (an earlier \"always\" covers it)";
      await settle(w.requestId, "expired", reason);
      w.resolve({ status: "expired", requestId: w.requestId, reason });
    },
    async rejectAll(reason) {
      closing ??= reason;
      await Promise.all(waits.all().map((w) => waits.withoutPerson(w, reason)));
    },
  };
}

/** What an agent server offers for answering (AgentServer.answer). */
type Answerer = { answer(ask: AgentAsk, reply: AgentReply): Promise<"delivered" | "unknown"> };

/** OpenCode asks on a running message: publish it, wait for the person, hand the answer back. */
export function relayAsk(desk: RequestDesk, messageId: string, agent: Answerer, ask: AgentAsk): Promise<PersonAnswer> {
  const { agentRequestId, sessionId, ...content } = ask;
  return desk.askPerson({
    messageId,
    content,
    key: agentRequestId,
    deliver: (a) => agent.answer(ask, toAgentReply(a)),
  });
}

/** The person's answer (or the worker's rejection) in OpenCode's terms. */
export function toAgentReply(a: PersonAnswer): AgentReply {
  if (a.status === "answered") return { reply: a.reply, ...(a.answers ? { answers: a.answers } : {}) };
  return { reply: "reject", ...(a.status === "rejected" && a.message ? { message: a.message } : {}) };
}
