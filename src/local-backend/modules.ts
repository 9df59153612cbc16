// The functions of convex/ as convex-test's module map, for the embedded backend and the
// function tests. Static imports (Bun has no import.meta.glob) so `bun build` bundles them.
// convex-test finds the module root from a key containing "_generated"; that key is never loaded.
// crons.ts is left out: the embedded backend runs admin:sweep on its own timer instead.
import schema from "../../convex/schema.ts";
import * as admin from "../../convex/admin.ts";
import * as chat from "../../convex/chat.ts";
import * as workers from "../../convex/workers.ts";

export { schema };

export const modules: Record<string, () => Promise<unknown>> = {
  "convex/_generated/placeholder.js": async () => ({}),
  "convex/admin.ts": async () => admin,
  "convex/chat.ts": async () => chat,
  "convex/workers.ts": async () => workers,
};
