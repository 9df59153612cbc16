// What the worker needs from the agent module: its own types, plus the starter's shape so a
// worker can be handed the real `startAgent` by the manager.
import type { AgentServer, StartAgentOptions } from "../agent/index.ts";

export type { AgentServer, TurnResult } from "../agent/index.ts";

export type StartAgent = (opts: Pick<StartAgentOptions, "directory" | "opencodePath" | "log" | "sandbox" | "permission">) => Promise<AgentServer>;
