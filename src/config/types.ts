// The one validated config type. `dev` (.env) and `orchestrate` (workers.json) both produce
// it, so one manager runs either.
import type { ConfigIssue } from "../util/errors.ts";
import type { WorkerToken } from "./token.ts";
import type { SandboxSettings } from "./sandbox-settings.ts";

export type WorkerConfig = {
  /** Display name (default: the worker id). Unique within a config. */
  name: string;
  token: WorkerToken;
  /** Absolute path of an existing directory. */
  workingDirectory: string;
  convexUrl: string;
  /** Sessions run at once; more wait in a queue. Also the capacity routing by tags counts on. */
  maxConcurrentSessions: number;
  /** Labels sessions are routed by (`chat --tag`), deduplicated; absent = none. */
  tags?: string[];
  /** Explicit opencode binary; null = find it on PATH. */
  opencodePath: string | null;
  /** Stop the idle OpenCode server after this long without a turn. */
  agentIdleTimeoutMs: number;
  /** Abort a turn that produced no agent event for this long. */
  turnInactivityTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** A permission request or question nobody answers for this long is rejected (absent: DEFAULTS.permissionTimeoutMs). */
  permissionTimeoutMs?: number;
  /** OpenCode permission rules laid over the user's own OpenCode config (e.g. {"bash": "ask"}); absent: none. */
  permission?: PermissionRules;
  /** Where it came from, for messages: `workers[2]` or `.env`. */
  origin: string;
  /** The agent's sandbox; absent = SANDBOX_DEFAULTS (src/config/sandbox-settings.ts). */
  sandbox?: SandboxSettings;
  /** Spend limits in USD (src/worker/budget.ts); absent/null = no limit. */
  maxTurnCostUsd?: number | null;
  maxDailyCostUsd?: number | null;
  /** token_file, resolved; hidden from every worker's agent. */
  tokenFile?: string | null;
};

/** OpenCode's `permission` config: a rule per permission, or per pattern of one ({"bash": {"git *": "allow"}}). */
export type PermissionRules = Record<string, PermissionAction | Record<string, PermissionAction>>;
export type PermissionAction = "ask" | "allow" | "deny";

export type ConfigSource = { kind: "file"; path: string } | { kind: "env"; envFile: string };

export type OrchestratorConfig = {
  source: ConfigSource;
  workers: WorkerConfig[];
  /** One deadline for draining all workers on shutdown. */
  shutdownTimeoutMs: number;
  /** host:port for /healthz, /status and /metrics; null = off. */
  statusAddress: string | null;
  /** Problems that do not stop a start (group-readable file, two workers on one folder). */
  warnings: ConfigIssue[];
  /**
   * Entries left out because of problems of their own (folder gone, bad token, …) when the
   * loader was asked to isolate them: `orchestrate` runs the others and reports these.
   */
  rejected: RejectedWorker[];
};

export type RejectedWorker = { name: string; origin: string; issues: ConfigIssue[] };

export const DEFAULTS = {
  maxConcurrentSessions: 4,
  agentIdleTimeoutMs: 10 * 60_000,
  turnInactivityTimeoutMs: 5 * 60_000,
  heartbeatIntervalMs: 15_000,
  /** How long a permission request or question waits for a person before it is rejected. */
  permissionTimeoutMs: 15 * 60_000,
  shutdownTimeoutMs: 30_000,
  devShutdownTimeoutMs: 10_000,
  statusAddress: "127.0.0.1:7420",
} as const;
