// What the worker needs from the agent module: its own types, plus the starter's shape so a
// worker can be handed the real `startAgent` by the manager.
import type { AgentServer, ListModelsOptions, StartAgentOptions } from "../agent/index.ts";
import type { ModelInfo } from "../backend/api.ts";

export type { AgentServer, TurnResult } from "../agent/index.ts";


/** Lists the worker's models without a running server (the manager adds the sandbox, as for StartAgent). */
export type ListModels = (opts: Pick<ListModelsOptions, "directory" | "opencodePath" | "log" | "sandbox" | "signal">) => Promise<ModelInfo[]>;
export type StartAgent = (opts: Pick<StartAgentOptions, "directory" | "opencodePath" | "log" | "sandbox" | "permission">) => Promise<AgentServer>;
