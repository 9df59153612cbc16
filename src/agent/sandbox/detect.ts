// Can this machine sandbox OpenCode? Linux: bubblewrap found on PATH *and* able to build a
// sandbox here (user namespaces can be disabled, or bwrap may lack its setuid bit) — checked
// once per bwrap path with a real probe. macOS: sandbox-exec. Elsewhere: no.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { findOnPath } from "../../util/which.ts";

export type SandboxSupport =
  | { ok: true; kind: "bwrap" | "sandbox-exec"; path: string }
  | { ok: false; reason: string; fix: string };

export const BWRAP_INSTALL_HINT =
  "Install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install bubblewrap`; Arch: `pacman -S bubblewrap`), or set sandbox to \"off\" for this worker.";

const SANDBOX_EXEC = "/usr/bin/sandbox-exec";
const probed = new Map<string, SandboxSupport>();

function probeBwrap(bwrap: string): SandboxSupport {
  const r = spawnSync(bwrap, ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--die-with-parent", "--cap-drop", "ALL", "true"], {
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 10_000,
    encoding: "utf8",
  });
  if (r.status === 0) return { ok: true, kind: "bwrap", path: bwrap };
  const said = (r.stderr ?? "").trim().split("\n").pop() || (r.error ? r.error.message : `exit ${r.status ?? r.signal}`);
  return {
    ok: false,
    reason: `bubblewrap (${bwrap}) cannot create a sandbox on this machine: ${said}`,
    fix: "Allow unprivileged user namespaces (e.g. `sysctl kernel.unprivileged_userns_clone=1`, or on Ubuntu 24.04+ an AppArmor profile for bwrap), or set sandbox to \"off\" for this worker.",
  };
}

/** What sandbox this machine offers to a process started with `env` (its PATH finds bwrap). */
export function detectSandbox(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): SandboxSupport {
  if (platform === "linux") {
    const bwrap = findOnPath("bwrap", env.PATH);
    if (!bwrap) return { ok: false, reason: "bubblewrap (bwrap) is not installed (not found on PATH)", fix: BWRAP_INSTALL_HINT };
    let r = probed.get(bwrap);
    if (!r) probed.set(bwrap, (r = probeBwrap(bwrap)));
    return r;
  }
  if (platform === "darwin") {
    try {
      accessSync(SANDBOX_EXEC, constants.X_OK);
      return { ok: true, kind: "sandbox-exec", path: SANDBOX_EXEC };
    } catch {
      return { ok: false, reason: `${SANDBOX_EXEC} is missing`, fix: "It ships with macOS; set sandbox to \"off\" if this system lacks it." };
    }
  }
  return { ok: false, reason: `no sandbox is available on ${platform}`, fix: "Run workers on Linux (bubblewrap) or macOS for a sandbox; set sandbox to \"off\" to silence this." };
}
