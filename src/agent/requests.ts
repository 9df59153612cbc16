// OpenCode's permission requests and questions. Nobody can answer them from here (the server
// is private to this worker), and an unanswered one stalls the turn until the inactivity
// timeout, so each is refused at once, with a log line saying how to allow it instead.
import type { OpencodeClient } from "@opencode-ai/sdk/v2/client";
import { errorMessage } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import type { AgentEvent } from "./events.ts";

export type AgentRequest = Extract<AgentEvent, { type: "permission.asked" | "question.asked" }>;

export function isAgentRequest(ev: AgentEvent): ev is AgentRequest {
  return ev.type === "permission.asked" || ev.type === "question.asked";
}

export function refuseRequest(client: OpencodeClient, directory: string, log: Logger, ev: AgentRequest): void {
  const id = ev.properties.id;
  const fail = (err: unknown) => log.debug("refusing OpenCode's request failed", { id, error: errorMessage(err) });
  if (ev.type === "permission.asked") {
    log.warn("OpenCode asked for a permission nobody can grant here; refused", {
      permission: ev.properties.permission,
      patterns: ev.properties.patterns.join(" "),
      hint: "allow it in the OpenCode config (`permission`) for unattended use",
    });
    client.permission
      .reply({ requestID: id, directory, reply: "reject", message: "Refused: this OpenCode runs unattended and nobody can approve permission requests." }, { throwOnError: true })
      .catch(fail);
  } else {
    log.warn("OpenCode asked a question nobody can answer here; refused");
    client.question.reject({ requestID: id, directory }, { throwOnError: true }).catch(fail);
  }
}
