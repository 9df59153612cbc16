// A turn's requests that wait for a person (TurnRequest.onAsk): each OpenCode request is handed
// over once, and while any waits the turn is silent on purpose, so its inactivity abort waits
// too (the worker's permission timeout bounds the wait instead).
import { errorMessage } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { describeAsk, type AgentAsk, type AgentRequest } from "./requests.ts";

export type TurnAsks = {
  /** OpenCode asks on the turn's behalf; false when nobody can answer here (it is refused then). */
  ask(ev: AgentRequest): boolean;
  /** A request was answered (`inAgent`: OpenCode says so, not our relay). */
  ended(agentRequestId: string, inAgent?: boolean): void;
  /** Some request waits for a person. */
  readonly waiting: boolean;
};

export function createTurnAsks(o: {
  log: Logger;
  onAsk?: (ask: AgentAsk) => void;
  onAskEnded?: (agentRequestId: string) => void;
  /** The turn still runs (not finished, not being stopped). */
  active: () => boolean;
  /** The first request started waiting (stop the inactivity timer). */
  onWait: () => void;
  /** The last request stopped waiting (arm it again). */
  onResume: () => void;
}): TurnAsks {
  const asking = new Set<string>();
  const call = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      o.log.error(`${what} callback failed`, { error: errorMessage(err) });
    }
  };
  return {
    get waiting() {
      return asking.size > 0;
    },
    ask(ev) {
      if (!o.active() || !o.onAsk) return false;
      const a = describeAsk(ev);
      if (asking.has(a.agentRequestId)) return true;
      asking.add(a.agentRequestId);
      o.onWait();
      o.log.info("OpenCode asks a person", { kind: a.kind, title: a.title });
      call("onAsk", () => o.onAsk!(a));
      return true;
    },
    ended(agentRequestId, inAgent = false) {
      if (!asking.delete(agentRequestId)) return;
      if (inAgent && o.onAskEnded) call("onAskEnded", () => o.onAskEnded!(agentRequestId));
      if (asking.size === 0 && o.active()) o.onResume();
    },
  };
}
