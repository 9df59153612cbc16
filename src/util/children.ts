// Every child process we start is registered here, so that even an immediate exit (3rd
// signal, fatal error) can take them down synchronously instead of orphaning ~0.5 GB each.

const live = new Map<number, { group: boolean; label: string }>();

export function trackChild(pid: number, opts: { group: boolean; label: string }): () => void {
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
