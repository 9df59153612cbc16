// `backend`: the embedded Convex backend in the foreground. stdout gets exactly two lines
// (CONVEX_URL=…, CONVEX_ADMIN_KEY=…) so `eval "$(opencode-orchestrator backend &)"`-style use
// works; everything else goes to stderr.
import { readConfigEnv } from "../config/env.ts";
import { isLoopbackHost } from "../config/rules.ts";
import type { CommandContext } from "./command-spec.ts";
import type { backendOptions } from "./command-table.ts";
import { errorMessage, EXIT, RuntimeFailure, UsageError } from "../util/errors.ts";
import { DEFAULT_HOST, startLocalBackend, validateAdminKey } from "../local-backend/backend.ts";
import { AddressInUseError } from "../local-backend/network.ts";

export const DEFAULT_PORT = 3210;

type BackendContext = CommandContext<typeof backendOptions>;

function adminKeyFrom(ctx: BackendContext): string | undefined {
  const flag = ctx.flags["admin-key"];
  const key = flag ?? readConfigEnv().adminKey;
  if (key === undefined) return undefined;
  const problem = validateAdminKey(key);
  if (problem) throw new UsageError(`${problem} (${flag !== undefined ? "--admin-key" : "CONVEX_ADMIN_KEY"})`, { command: "backend" });
  return key;
}

export async function run(ctx: BackendContext): Promise<number> {
  const port = ctx.flags.port ?? DEFAULT_PORT;
  const host = ctx.flags.host ?? DEFAULT_HOST;
  const adminKey = adminKeyFrom(ctx);

  let backend;
  try {
    backend = await startLocalBackend({ port, host, adminKey, log: ctx.log });
  } catch (e) {
    if (e instanceof AddressInUseError) {
      throw new RuntimeFailure(`port ${e.port} on ${e.host} is already in use`, {
        hint: "Stop whatever is using it (another `backend`?), or choose another port with --port N (--port 0 picks a free one).",
      });
    }
    throw e;
  }

  if (!isLoopbackHost(host)) {
    ctx.stderr(
      `warning: listening on ${host}:${backend.port}, reachable from other machines. Anyone who can reach it can call the ` +
        "worker-facing functions; keep the admin key secret. For many machines, deploy convex/ to a real Convex deployment.",
    );
  }
  ctx.stdout(`CONVEX_URL=${backend.url}`);
  ctx.stdout(`CONVEX_ADMIN_KEY=${backend.adminKey}`);
  ctx.log.info("embedded backend ready; data lives in memory and is gone when it stops. Ctrl+C stops it.");

  // First SIGINT/SIGTERM: close connections and stop. A second one stops waiting for that.
  await new Promise<void>((resolve) => {
    const off = ctx.onSignal((s) => {
      if (s.signal === "SIGHUP") return;
      if (s.count === 1) {
        ctx.log.info(`${s.signal} received: stopping the backend`);
        backend.stop().then(
          () => {
            off();
            resolve();
          },
          (e) => {
            ctx.log.error("stopping the backend failed", { error: errorMessage(e) });
            off();
            resolve();
          },
        );
      } else {
        off();
        resolve();
      }
    });
  });
  ctx.log.info("backend stopped");
  return EXIT.ok;
}
