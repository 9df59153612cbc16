// OpenCode management for one worker: start/stop `opencode serve`, sessions, turns, leftovers.
export { startAgent, INSTALL_HINT, type AgentServer, type AgentExit, type StartAgentOptions } from "./server.ts";
export type { TurnRequest, TurnResult } from "./turn.ts";
export { describeAgentError } from "./turn.ts";
export { reapLeftoverAgents, agentsDir, type ReapResult } from "./leftovers.ts";
export { agentEnv, isSecretVar, AGENT_MARKER_VAR } from "./env.ts";
export type { AgentPart } from "./parts.ts";
export { listAgentModels, parseModelList, type ListModelsOptions } from "./models.ts";
export { shareModelListings, SHARED_LISTING_TTL_MS } from "./models-share.ts";
export type { AgentAsk, AgentReply } from "./requests.ts";
