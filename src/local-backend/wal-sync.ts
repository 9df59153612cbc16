// Syncing the WAL file, where every commit lands first (SQLite keeps it while the exclusive
// connection is open). The sync runs off the event loop; the commit pipeline (commits.ts)
// answers no commit before it finished.
import { closeSync, fdatasync, fdatasyncSync, openSync } from "node:fs";

export type WalSync = {
  /** A commit was written: the next sync has something to do. */
  written(): void;
  sync(): Promise<void>;
  syncNow(): void;
  close(): void;
};

/**
 * Opened on the first commit, when it surely exists; its descriptor is closed only once no
 * sync runs on it, so a late one cannot hit a reused descriptor.
 */
export function walSync(path: string): WalSync {
  let fd: number | undefined;
  let dirty = false;
  let running = 0;
  let closed = false;
  const open = () => (fd ??= openSync(path, "r"));
  const release = () => {
    if (closed && running === 0 && fd !== undefined) closeSync(fd);
    if (closed && running === 0) fd = undefined;
  };
  return {
    written: () => void (dirty = true),
    // Nothing written since the last sync that finished: nothing to wait for.
    sync(): Promise<void> {
      if (!dirty && running === 0) return Promise.resolve();
      dirty = false;
      const target = open();
      running++;
      return new Promise<void>((resolve, reject) =>
        fdatasync(target, (e) => {
          running--;
          release();
          if (e) reject(e);
          else resolve();
        }),
      );
    },
    syncNow(): void {
      if (!dirty && running === 0) return;
      dirty = false;
      fdatasyncSync(open());
    },
    close(): void {
      closed = true;
      release();
    },
  };
}
