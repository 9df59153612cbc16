// How a turn ends, in words a person reads: our own stop first, then OpenCode's error.

export type TurnResult = { outcome: "completed" } | { outcome: "failed"; reason: string } | { outcome: "cancelled" };

/** Why we stop a turn ourselves: the person cancelled it, or it went quiet for too long. */
export type OurStop = { kind: "cancel" } | { kind: "inactive"; reason: string };

/** OpenCode's error objects (`{name, data:{message, statusCode…}}`) as one line for people. */
export function describeAgentError(err: unknown): string {
  if (!err || typeof err !== "object") return String(err ?? "unknown error");
  const e = err as { name?: unknown; data?: { message?: unknown; statusCode?: unknown }; message?: unknown };
  const message =
    typeof e.data?.message === "string" && e.data.message
      ? e.data.message
      : typeof e.message === "string" && e.message
        ? e.message
        : typeof e.name === "string"
          ? e.name
          : "unknown error";
  const status = typeof e.data?.statusCode === "number" ? ` (HTTP ${e.data.statusCode})` : "";
  return `${message}${status}`;
}

/** How a turn ended: our own stop first, then the error OpenCode reported, else completed. */
export function turnResult(stopping: OurStop | null, agentError: unknown): TurnResult {
  if (stopping?.kind === "cancel") return { outcome: "cancelled" };
  if (stopping?.kind === "inactive") return { outcome: "failed", reason: stopping.reason };
  if (agentError) {
    const name = (agentError as { name?: unknown }).name;
    if (name === "MessageAbortedError") return { outcome: "failed", reason: "the turn was aborted inside OpenCode" };
    return { outcome: "failed", reason: describeAgentError(agentError) };
  }
  return { outcome: "completed" };
}
