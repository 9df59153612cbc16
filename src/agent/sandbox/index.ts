// The agent's sandbox: detection, the bwrap and sandbox-exec command lines, what it hides.
export { SANDBOX_DEFAULTS, SANDBOX_MODES, isSandboxMode, type SandboxMode, type SandboxSettings } from "../../config/sandbox-settings.ts";
export { detectSandbox, BWRAP_INSTALL_HINT, type SandboxSupport } from "./detect.ts";
export { SandboxUnavailable } from "./errors.ts";
export { buildPlan, type SandboxPlan, type SandboxRequest } from "./plan.ts";
export { bwrapArgs } from "./bwrap.ts";
export { seatbeltProfile } from "./seatbelt.ts";
export { sandboxSpawn, resolveSandbox, type Sandboxed, type SpawnSpec } from "./wrap.ts";
export { sandboxRequest, sandboxSummary, sandboxStatus, formatSandboxStatus, describeSandbox, type SandboxSummary, type SandboxStatus } from "./request.ts";
export { checkSandboxes } from "./check.ts";
