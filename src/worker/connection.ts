// Says when the backend connection drops and when it is back, the moment the client knows
// (its WebSocket state), once each way: an outage must not wait for a heartbeat to time out.
import type { WorkerBackend } from "../backend/worker-client.ts";
import type { Logger } from "../util/log.ts";

/** Starts watching; returns the release function. */
export function reportConnectionChanges(b: WorkerBackend, log: Logger, url: string): () => void {
  // Unknown until the first connection: connecting for the first time is not news.
  let up: boolean | null = null;
  let downSince = 0;
  return b.onConnectionChange((s) => {
    if (!s.everConnected || s.connected === up) return;
    const was = up;
    up = s.connected;
    if (was === null) return;
    if (!up) {
      downSince = Date.now();
      log.warn("backend connection lost; reconnecting", { url });
    } else {
      log.info("backend connection restored", { downSeconds: Math.round((Date.now() - downSince) / 100) / 10 });
    }
  });
}
