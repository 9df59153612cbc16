// Permission requests and questions of a running answer, asked inline.
import { safeLine } from "../../util/terminal-text.ts";
import type { Session } from "./session.ts";
import type { TurnEvent } from "./turn-view.ts";

/** Draws an event the turn view does not know; true while the screen is writable. */
export async function answerRequest(s: Session, ev: TurnEvent): Promise<boolean> {
  return s.screen.line(s.screen.palette.dim(`[${safeLine(ev.type)}]`));
}
