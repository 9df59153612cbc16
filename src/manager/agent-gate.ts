// OpenCode keeps one SQLite database per user ($XDG_DATA_HOME/opencode) and creates or
// migrates its tables when a server boots. Two servers booting at once against a fresh (or
// just upgraded) database race on those migrations and one exits with code 1 — seen as a
// failed first answer when two workers get prompts at the same moment. So, until one server
// of this process has come up, servers start one at a time; after that, in parallel.
import type { StartAgent } from "../worker/agent-types.ts";

export function firstStartAlone(start: StartAgent): StartAgent {
  let booted = false;
  let queue: Promise<unknown> = Promise.resolve();
  return (opts) => {
    if (booted) return start(opts);
    const attempt = queue.then(() => start(opts));
    // The next start waits for this one to settle, success or not.
    queue = attempt.then(
      () => {
        booted = true;
      },
      () => undefined,
    );
    return attempt;
  };
}
