// The two service managers `service` drives: systemd (user units) on Linux, launchd
// (LaunchAgents) on macOS. Each says where its file goes and which commands install, remove
// and show it; service.ts runs them and reports what happened.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import { RuntimeFailure } from "../util/errors.ts";
import { LAUNCHD_LABEL, launchdPlist, SYSTEMD_UNIT_NAME, systemdUnit, type ServiceSpec } from "./service-unit.ts";

/** One command; `mayFail` for a step whose failure means there was nothing to undo. */
export type Step = { cmd: string; args: string[]; mayFail?: boolean };

export type ServiceManager = {
  name: "systemd" | "launchd";
  file: string;
  render: (spec: ServiceSpec) => string;
  /** Throws a RuntimeFailure naming what is missing when the manager cannot be used here. */
  check: () => Promise<void>;
  install: Step[];
  uninstall: Step[];
  /** Run after the file is removed. */
  afterRemove: Step[];
  status: Step;
  /** Lines printed after a successful install. */
  afterInstall: () => Promise<string[]>;
};

export type ToolResult = { code: number; stdout: string; stderr: string };

/** Runs a service-manager command; a command that cannot be started counts as a failure. */
export function runTool(step: Step, timeoutMs = 120_000): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(step.cmd, step.args, { timeout: timeoutMs, encoding: "utf8" }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 127) : 0;
      resolve({ code, stdout, stderr: stderr || (error && !stdout ? error.message : "") });
    });
  });
}

export const stepText = (s: Step) => [s.cmd, ...s.args].join(" ");

function systemd(): ServiceManager {
  const configHome = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  const user = ["--user"];
  return {
    name: "systemd",
    file: join(configHome, "systemd/user", SYSTEMD_UNIT_NAME),
    render: systemdUnit,
    async check() {
      // sd_booted(): systemd is the running init exactly when this folder exists.
      if (!existsSync("/run/systemd/system")) {
        throw new RuntimeFailure("systemd is not running on this machine (no /run/systemd/system), so there is no user service manager to install into", {
          hint: "Run `opencode-orchestrator orchestrate` under the supervisor you use (see docs/service.md); `service install --dry-run` prints the unit.",
        });
      }
      const env = await runTool({ cmd: "systemctl", args: [...user, "show-environment"] }, 15_000);
      if (env.code !== 0) {
        throw new RuntimeFailure(`there is no systemd user manager for this session: ${env.stderr.trim() || `systemctl exited ${env.code}`}`, {
          hint: "Log in through a normal session (not su/sudo), or run `loginctl enable-linger` to start your user manager at boot.",
        });
      }
    },
    install: [
      { cmd: "systemctl", args: [...user, "daemon-reload"] },
      { cmd: "systemctl", args: [...user, "enable", "--now", SYSTEMD_UNIT_NAME] },
    ],
    uninstall: [{ cmd: "systemctl", args: [...user, "disable", "--now", SYSTEMD_UNIT_NAME] }],
    afterRemove: [{ cmd: "systemctl", args: [...user, "daemon-reload"] }],
    status: { cmd: "systemctl", args: [...user, "status", "--no-pager", "--lines=10", SYSTEMD_UNIT_NAME] },
    async afterInstall() {
      const name = userInfo().username;
      const linger = await runTool({ cmd: "loginctl", args: ["show-user", name, "--property=Linger"] }, 15_000);
      const lines = [`Logs: journalctl --user -u ${SYSTEMD_UNIT_NAME} -f`];
      if (!linger.stdout.includes("Linger=yes")) {
        lines.push(`It stops when you log out. To keep it running (and start it at boot): loginctl enable-linger ${name}`);
      }
      return lines;
    },
  };
}

function launchd(): ServiceManager {
  const domain = `gui/${process.getuid?.() ?? 0}`;
  const file = join(homedir(), "Library/LaunchAgents", `${LAUNCHD_LABEL}.plist`);
  return {
    name: "launchd",
    file,
    render: launchdPlist,
    async check() {
      if (!existsSync("/bin/launchctl")) throw new RuntimeFailure("launchctl is missing, so launchd cannot run the service");
    },
    install: [
      // Replacing a loaded agent needs it unloaded first; failing when none is loaded is fine.
      { cmd: "/bin/launchctl", args: ["bootout", `${domain}/${LAUNCHD_LABEL}`], mayFail: true },
      { cmd: "/bin/launchctl", args: ["bootstrap", domain, file] },
      { cmd: "/bin/launchctl", args: ["enable", `${domain}/${LAUNCHD_LABEL}`] },
    ],
    uninstall: [{ cmd: "/bin/launchctl", args: ["bootout", `${domain}/${LAUNCHD_LABEL}`] }],
    afterRemove: [],
    status: { cmd: "/bin/launchctl", args: ["print", `${domain}/${LAUNCHD_LABEL}`] },
    async afterInstall() {
      return [`Logs: ${launchdLogFile()}`, "A LaunchAgent runs while you are logged in and starts again at your next login."];
    },
  };
}

export function launchdLogFile(): string {
  return join(homedir(), "Library/Logs/opencode-orchestrator.log");
}

/** The manager of this platform; other platforms get a clear failure. */
export function serviceManager(platform: NodeJS.Platform = process.platform): ServiceManager {
  if (platform === "linux") return systemd();
  if (platform === "darwin") return launchd();
  throw new RuntimeFailure(`service supports Linux (systemd) and macOS (launchd), not ${platform}`, {
    hint: "Run `opencode-orchestrator orchestrate` under the supervisor you use; docs/service.md lists what it expects.",
  });
}
