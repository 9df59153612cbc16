// The functions of convex/ as a module map, for the embedded backend and the function tests.
// Static imports (Bun has no import.meta.glob) so `bun build` bundles them. The module root
// is found from a key containing "_generated"; that key is never loaded. crons.ts is loaded
// too: the engine runs its jobs on their schedules.
import schema from "../../convex/schema.ts";
import * as admin from "../../convex/admin.ts";
import * as chat from "../../convex/chat.ts";
import * as crons from "../../convex/crons.ts";
import * as requests from "../../convex/requests.ts";
import * as routing from "../../convex/routing.ts";
import * as sessions from "../../convex/sessions.ts";
import * as workers from "../../convex/workers.ts";

export { schema };

export const modules: Record<string, () => Promise<unknown>> = {
  "convex/_generated/placeholder.js": async () => ({}),
  "convex/admin.ts": async () => admin,
  "convex/chat.ts": async () => chat,
  "convex/crons.ts": async () => crons,
  "convex/requests.ts": async () => requests,
  "convex/routing.ts": async () => routing,
  "convex/sessions.ts": async () => sessions,
  "convex/workers.ts": async () => workers,
};
