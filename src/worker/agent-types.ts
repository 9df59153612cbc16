// What the worker needs from the agent module (src/agent). Kept as a type so a worker can be
// given another starter (the manager passes the real one).
import type { ModelInfo } from "../backend/api.ts";
import type { Logger } from "../util/log.ts";

export type TurnResult = { outcome: "completed" } | { outcome: "failed"; reason: string } | { outcome: "cancelled" };

export type AgentServer = {
  pid: number;
  listModels(): Promise<ModelInfo[]>;
  createSession(title: string): Promise<string>;
  hasSession(id: string): Promise<boolean>;
  runTurn(t: {
    sessionId: string;
    prompt: string;
    onText: (delta: string) => void;
    onActivity?: () => void;
    signal: AbortSignal;
    inactivityTimeoutMs: number;
  }): Promise<TurnResult>;
  exited: Promise<{ code: number | null; signal: string | null }>;
  stop(opts?: { timeoutMs?: number }): Promise<void>;
};

export type StartAgent = (opts: { directory: string; opencodePath: string | null; log: Logger }) => Promise<AgentServer>;
