// What can go wrong between a person-side command and the backend, as typed errors the CLI
// formats: a refusal by the backend, no answer in time, and transport or key failures turned
// into messages a person can act on.
import { errorMessage, RuntimeFailure } from "../util/errors.ts";
import { backendErrorCode, backendErrorMessage } from "./errors.ts";

/** The backend answered and refused (a ConvexError with a code: NOT_FOUND, INVALID, …). */
export class BackendRefused extends RuntimeFailure {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** The backend did not connect or answer within the person's timeout. */
export class BackendNoAnswer extends RuntimeFailure {
  constructor(url: string, ms: number) {
    super(`the backend at ${url} did not answer within ${formatSeconds(ms)}`, {
      hint: "Is the URL right and the backend running? A slow link may need a longer --timeout SECONDS.",
    });
  }
}

const formatSeconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

/** Turns transport and key failures into messages a person can act on. */
export function adminFailure(url: string, e: unknown): RuntimeFailure {
  if (e instanceof RuntimeFailure) return e;
  const text = errorMessage(e);
  if (/ECONNREFUSED|fetch failed|Unable to connect|ENOTFOUND|EAI_AGAIN|ConnectionRefused|socket/i.test(text)) {
    return new RuntimeFailure(`cannot reach the backend at ${url}`, {
      hint: "Is it running? Start the embedded one with `opencode-orchestrator backend`, or check --url / CONVEX_URL.",
    });
  }
  if (/admin key|BadAdminKey|Unauthenticated|401|403|Forbidden/i.test(text) && !backendErrorCode(e)) {
    return new RuntimeFailure(`the backend at ${url} rejected the admin key`, {
      hint: "Use the CONVEX_ADMIN_KEY printed by `opencode-orchestrator backend` (or your deployment's deploy key).",
    });
  }
  if (/Could not find (public )?function|No such function/i.test(text)) {
    return new RuntimeFailure(`the backend at ${url} does not have this orchestrator's functions`, {
      hint: "Deploy them with `npx convex deploy` from this project (see README).",
    });
  }
  const code = backendErrorCode(e);
  return code ? new BackendRefused(backendErrorMessage(e), code) : new RuntimeFailure(backendErrorMessage(e));
}
