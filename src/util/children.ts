// Every child process we start is registered here until it (its whole group) is gone, so that
// whichever way our process exits, none outlives it: a command that returns or fails stops
// what is left gracefully (stopAllChildren), an immediate exit (3rd signal, a crash) kills it
// synchronously (killAllChildrenNow) instead of orphaning ~0.5 GB each.
import { pidAlive, terminateGroup, terminatePids } from "./process-group.ts";

type Child = { group: boolean; label: string };

const live = new Map<number, Child>();

/** How long children still running when the command ended get after SIGTERM. */
const LEFTOVER_GRACE_MS = 2_000;

export function trackChild(pid: number, opts: Child): () => void {
  live.set(pid, opts);
  return () => live.delete(pid);
}

/** SIGKILL everything still registered. Synchronous: safe to call right before exiting. */
export function killAllChildrenNow(): number {
  let n = 0;
  for (const [pid, o] of live) {
    try {
      process.kill(o.group ? -pid : pid, "SIGKILL");
      n++;
    } catch {
      // already gone
    }
  }
  live.clear();
  return n;
}

/**
 * SIGTERM everything still registered, SIGKILL what is left after `graceMs`; resolves once all
 * of it is gone (bounded). Returns the labels of those that were still there. Never throws.
 */
export async function stopAllChildren(graceMs = LEFTOVER_GRACE_MS): Promise<string[]> {
  const left = [...live];
  // Each stays registered until it is gone: a 3rd signal meanwhile still kills it at once.
  const stop = async ([pid, o]: [number, Child]) => {
    await (o.group ? terminateGroup(pid, { gone: () => !pidAlive(pid), timeoutMs: graceMs }) : terminatePids([pid], graceMs)).catch(() => {});
    live.delete(pid);
  };
  await Promise.all(left.map(stop));
  return left.map(([, o]) => o.label);
}
