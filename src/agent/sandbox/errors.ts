// Why a sandbox cannot be had, carried as data so src/index.ts formats it once.
import { EXIT, OrchestratorError } from "../../util/errors.ts";

/** `sandbox: "on"` on a machine without a usable sandbox, or settings it cannot honour. Exit 78. */
export class SandboxUnavailable extends OrchestratorError {
  readonly worker: string;
  readonly reason: string;
  /** "missing": on without a usable sandbox; "unsupported": a setting this version cannot honour. */
  constructor(worker: string, reason: string, fix: string, kind: "missing" | "unsupported" = "missing") {
    const what = kind === "missing" ? `sandbox is "on" but ${reason}` : reason;
    super(`worker ${worker}: ${what}; OpenCode was not started`, { exitCode: EXIT.config, hint: fix });
    this.worker = worker;
    this.reason = reason;
  }
}
