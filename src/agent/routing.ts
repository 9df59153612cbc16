// Routes the server's shared event stream to the turn running in each session. Events of a
// sub-agent session (the `task` tool) keep its parent's turn alive.
import type { AgentEvent } from "./events.ts";
import type { TurnHandle } from "./turn.ts";

/** How far up a chain of sub-agent sessions an event is followed. */
const MAX_HOPS = 10;

export type EventRouter = {
  (ev: AgentEvent): void;
  /** The turn a session's events belong to: its own, or the one that started it as a sub-agent. */
  ownerOf(sessionId: string): TurnHandle | undefined;
};

export function createEventRouter(turns: Map<string, TurnHandle>): EventRouter {
  const parentOf = new Map<string, string>();
  const ownerOf = (sessionId: string): TurnHandle | undefined => {
    let at: string | undefined = sessionId;
    for (let hops = 0; at && hops <= MAX_HOPS; hops++, at = parentOf.get(at)) {
      const t = turns.get(at);
      if (t) return t;
    }
    return undefined;
  };
  const route = (ev: AgentEvent) => {
    if (ev.type === "session.created" || ev.type === "session.updated") {
      if (ev.properties.info.parentID) parentOf.set(ev.properties.info.id, ev.properties.info.parentID);
    }
    const p = ev.properties as { sessionID?: unknown; info?: { sessionID?: unknown }; part?: { sessionID?: unknown } } | undefined;
    const sid = p?.sessionID ?? p?.info?.sessionID ?? p?.part?.sessionID;
    if (typeof sid !== "string") return;
    const own = turns.get(sid);
    if (own) return own.onEvent(ev);
    let up = parentOf.get(sid);
    for (let hops = 0; up && hops < MAX_HOPS; hops++, up = parentOf.get(up)) {
      const t = turns.get(up);
      if (t) return t.touch();
    }
  };
  return Object.assign(route, { ownerOf });
}
