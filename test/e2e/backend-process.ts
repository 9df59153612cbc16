// The embedded backend as a real `backend` process that a test can kill and start again on the
// same port and admin key: each start gets a fresh private HOME/XDG, so it comes back without
// the data of the previous one (what a restart with lost data looks like to its clients).
import { createServer } from "node:net";
import { join } from "node:path";
import { startCli } from "../support/cli.ts";
import type { Running } from "../support/proc.ts";
import { tempDir } from "../support/tmp.ts";

export type BackendProcess = {
  url: string;
  adminKey: string;
  /** SIGKILL the running backend and start a new one, with no data, on the same port. */
  restartFresh(): Promise<void>;
  stop(): Promise<void>;
};

export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function launch(port: number, adminKey: string): Promise<Running> {
  const home = tempDir("backend-home-");
  const env = { HOME: home, XDG_CONFIG_HOME: join(home, "config"), XDG_DATA_HOME: join(home, "data"), XDG_STATE_HOME: join(home, "state") };
  const proc = startCli("binary", ["backend", "--port", String(port), "--admin-key", adminKey], { env });
  await proc.waitFor(/^CONVEX_ADMIN_KEY=/m, { stream: "stdout", timeoutMs: 30_000 });
  return proc;
}

export async function startBackendProcess(): Promise<BackendProcess> {
  const port = await freePort();
  const adminKey = `test-admin-key-${port}`;
  let proc = await launch(port, adminKey);
  const kill = async () => {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.kill("SIGKILL");
    await proc.exited;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    adminKey,
    async restartFresh() {
      await kill();
      proc = await launch(port, adminKey);
    },
    stop: kill,
  };
}

/** Restart=, RestartPreventExitStatus= and ExecStart= of the systemd unit shown in docs/service.md. */
export function serviceUnit(markdown: string): { restart: string; preventExitStatus: number[]; execStart: string } {
  const block = /```ini\n([\s\S]*?)```/.exec(markdown)?.[1];
  if (!block) throw new Error("docs/service.md has no ```ini unit");
  const setting = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(block)?.[1]?.trim() ?? "";
  return {
    restart: setting("Restart"),
    preventExitStatus: setting("RestartPreventExitStatus").split(/\s+/).filter(Boolean).map(Number),
    execStart: setting("ExecStart"),
  };
}

/** Whether systemd restarts a service that exited with `code` under this unit (Restart=on-failure rules). */
export function systemdRestarts(unit: { restart: string; preventExitStatus: number[] }, code: number): boolean {
  if (unit.preventExitStatus.includes(code)) return false;
  if (unit.restart === "always") return true;
  if (unit.restart === "on-failure") return code !== 0;
  return false;
}
