// Maintenance for module maps without a crons module: a timer calls `admin:sweep` when the
// functions have it (lease expiry of messages whose worker vanished). With convex/crons.ts
// loaded, the engine's cron runner does this instead.
import type { Logger } from "../util/log.ts";
import type { Engine } from "./engine.ts";
import { errorMessage } from "../util/errors.ts";

export const SWEEP_FUNCTION = "admin:sweep";

export type Sweeper = {
  /** Run one tick now; resolves when it finished (a tick already running is joined). */
  tick(): Promise<void>;
  stop(): void;
};

export function startSweeper(opts: { engine: Engine; intervalMs: number; log: Logger }): Sweeper {
  const { engine, log } = opts;
  let running: Promise<void> | undefined;
  let lastError: string | undefined;
  let stopped = false;

  async function once(): Promise<void> {
    const info = await engine.resolve(SWEEP_FUNCTION).catch(() => undefined);
    if (info?.kind !== "mutation") return;
    const o = await engine.call({ udfPath: SWEEP_FUNCTION, args: {}, caller: { admin: true } });
    if (o.success) {
      lastError = undefined;
      log.debug("sweep done", { result: o.value });
      return;
    }
    // Once per distinct failure, not every few seconds.
    if (o.errorMessage !== lastError) log.warn("sweep failed", { error: o.errorMessage });
    lastError = o.errorMessage;
  }

  function tick(): Promise<void> {
    if (stopped) return Promise.resolve();
    running ??= once()
      .catch((e) => log.warn("sweep failed", { error: errorMessage(e) }))
      .finally(() => (running = undefined));
    return running;
  }

  const timer = opts.intervalMs > 0 ? setInterval(() => void tick(), opts.intervalMs) : undefined;
  timer?.unref?.();
  return {
    tick,
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
    },
  };
}
