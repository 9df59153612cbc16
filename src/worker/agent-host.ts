// Starts OpenCode lazily on the first turn and stops it after an idle period, so an idle
// worker costs no OpenCode process (each holds ~0.5 GB). A crashed server is dropped and
// the next turn starts a fresh one.
import type { Logger } from "../util/log.ts";
import type { AgentServer, StartAgent } from "./agent-types.ts";
import { createAgentQueue } from "./agent-queue.ts";

/** The one queue of OpenCode starts and listings of this process (they share OpenCode's data folder). */
export const agentQueue = createAgentQueue();

export type AgentHost = {
  /** The running server, starting one if needed. Concurrent callers share one start. */
  acquire(): Promise<AgentServer>;
  /** Mark one use finished; starts the idle timer when nothing uses the server. */
  release(): void;
  readonly pid: number | null;
  /** Called once per server start (e.g. to publish its models). */
  onStarted(cb: (server: AgentServer) => void): void;
  stop(): Promise<void>;
};

export function createAgentHost(opts: {
  start: StartAgent;
  directory: string;
  opencodePath: string | null;
  idleTimeoutMs: number;
  /** The worker's OpenCode permission rules (workers.json `permission`). */
  permission?: Record<string, unknown>;
  log: Logger;
}): AgentHost {
  let server: AgentServer | null = null;
  let starting: Promise<AgentServer> | null = null;
  let users = 0;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const startedListeners: ((s: AgentServer) => void)[] = [];

  const clearIdle = () => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = undefined;
  };

  async function startServer(): Promise<AgentServer> {
    opts.log.info("starting OpenCode", { directory: opts.directory });
    const s = await agentQueue("start", () => opts.start({ directory: opts.directory, opencodePath: opts.opencodePath, log: opts.log.child("opencode"), ...(opts.permission ? { permission: opts.permission } : {}) }));
    if (stopped) {
      await s.stop();
      throw new Error("worker stopped while OpenCode was starting");
    }
    server = s;
    opts.log.info("OpenCode ready", { pid: s.pid });
    void s.exited.then((exit) => {
      if (server === s) {
        server = null;
        if (!stopped) opts.log.warn("OpenCode exited", { code: exit.code ?? undefined, signal: exit.signal ?? undefined });
      }
    });
    for (const cb of startedListeners) cb(s);
    return s;
  }

  return {
    get pid() {
      return server?.pid ?? null;
    },
    onStarted(cb) {
      startedListeners.push(cb);
    },
    async acquire() {
      if (stopped) throw new Error("worker is stopping");
      users++;
      clearIdle();
      try {
        if (server) return server;
        starting ??= startServer().finally(() => {
          starting = null;
        });
        return await starting;
      } catch (e) {
        users--;
        throw e;
      }
    },
    release() {
      users = Math.max(0, users - 1);
      if (users === 0 && server && !stopped) {
        clearIdle();
        idleTimer = setTimeout(() => {
          const s = server;
          if (!s || users > 0) return;
          server = null;
          opts.log.info("stopping idle OpenCode", { idleSeconds: Math.round(opts.idleTimeoutMs / 1000) });
          void s.stop();
        }, opts.idleTimeoutMs);
        idleTimer.unref?.();
      }
    },
    async stop() {
      stopped = true;
      clearIdle();
      const pending = starting;
      if (pending) await pending.catch(() => undefined);
      const s = server;
      server = null;
      if (s) await s.stop();
    },
  };
}
