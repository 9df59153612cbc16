// The last session per worker and backend, so `chat --worker w "…"` continues a conversation.
// Each entry remembers which worker the session belongs to: a session id is reused only for
// that same worker, never for whichever worker later answers to the same name.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stateDir } from "../config/paths.ts";
import { writeSecureFile } from "../util/secure-file.ts";

type Remembered = { sessionId: string; workerId: string };

const sessionsFile = () => join(stateDir(), "chat-sessions.json");

function loadAll(): Record<string, unknown> {
  try {
    const all = JSON.parse(readFileSync(sessionsFile(), "utf8")) as unknown;
    return all && typeof all === "object" && !Array.isArray(all) ? (all as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const keyOf = (url: string, workerId: string) => `${url} ${workerId}`;

/** The session last used with this worker on this backend; entries of the older format (no worker id) are not trusted. */
export function rememberedSession(url: string, workerId: string): string | undefined {
  const entry = loadAll()[keyOf(url, workerId)] as Partial<Remembered> | undefined;
  return entry && typeof entry === "object" && entry.workerId === workerId && typeof entry.sessionId === "string" ? entry.sessionId : undefined;
}

export function rememberSession(url: string, workerId: string, sessionId: string): void {
  const all = loadAll();
  all[keyOf(url, workerId)] = { sessionId, workerId } satisfies Remembered;
  writeSecureFile(sessionsFile(), JSON.stringify(all, null, 2) + "\n");
}
