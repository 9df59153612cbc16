// The service definitions `service install` writes, generated here and nowhere else
// (docs/service.md shows this output; test/cli/service.test.ts keeps the two equal).
import { DEFAULTS } from "../config/types.ts";

export const SYSTEMD_UNIT_NAME = "opencode-orchestrator.service";
export const LAUNCHD_LABEL = "dev.opencode-orchestrator";

/**
 * After the drain deadline (shutdown_timeout) the orchestrator still stops every OpenCode
 * server, SIGTERM then SIGKILL; the service manager must wait for that too before it kills.
 */
export const STOP_MARGIN_SECONDS = 30;

export type ServiceSpec = {
  /** The orchestrator's own command line up to the subcommand: [executable] or [node, script]. */
  program: string[];
  /** Arguments after `orchestrate`, e.g. ["--config", "/abs/workers.json"]. */
  args: string[];
  /** shutdown_timeout of workers.json, in seconds. */
  shutdownTimeoutSeconds: number;
  /** PATH the service runs with, so it finds `opencode` as the user's shell does. */
  path?: string;
  /** Where launchd writes the log (systemd uses the journal). */
  logFile: string;
};

export function defaultShutdownTimeoutSeconds(): number {
  return DEFAULTS.shutdownTimeoutMs / 1000;
}

export function stopTimeoutSeconds(spec: ServiceSpec): number {
  return Math.ceil(spec.shutdownTimeoutSeconds) + STOP_MARGIN_SECONDS;
}

/** The command a service manager runs. JSON log lines: the journal or log file keeps them whole. */
export function orchestrateCommand(spec: ServiceSpec): string[] {
  return [...spec.program, "orchestrate", "--log-format", "json", ...spec.args];
}

// systemd splits ExecStart on spaces and expands `%` specifiers everywhere, `$` variables only
// in ExecStart's arguments (not its executable, nor Environment=).
function systemdArg(arg: string, expandsVariables = false): string {
  const percent = arg.replace(/%/g, "%%");
  const escaped = expandsVariables ? percent.replace(/\$/g, "$$$$") : percent;
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function systemdUnit(spec: ServiceSpec): string {
  const lines = [
    "[Unit]",
    "Description=opencode-orchestrator (OpenCode workers)",
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    `ExecStart=${orchestrateCommand(spec)
      .map((a, i) => systemdArg(a, i > 0))
      .join(" ")}`,
    ...(spec.path ? [`Environment=${systemdArg(`PATH=${spec.path}`)}`] : []),
    "ExecReload=/bin/kill -HUP $MAINPID",
    "# SIGTERM to the orchestrator only: it drains, then stops its OpenCode servers itself.",
    "# Whatever is left when the stop timeout ends gets SIGKILL.",
    "KillMode=mixed",
    "KillSignal=SIGTERM",
    `# shutdown_timeout (${spec.shutdownTimeoutSeconds} s) + ${STOP_MARGIN_SECONDS} s to stop the OpenCode servers.`,
    `TimeoutStopSec=${stopTimeoutSeconds(spec)}`,
    "Restart=on-failure",
    "RestartSec=5",
    "# 78: the config is missing or invalid; restarting cannot fix it.",
    "RestartPreventExitStatus=78",
    "",
    "[Install]",
    "WantedBy=default.target",
  ];
  return lines.join("\n") + "\n";
}

/**
 * launchd has no RestartPreventExitStatus, and KeepAlive {SuccessfulExit: false} restarts on
 * any non-zero exit. This sh wrapper turns 78 into 0 so a config error is not restarted in a
 * loop, and passes SIGTERM (launchd's stop) and SIGHUP (reload) on to the orchestrator only.
 */
export const LAUNCHD_WRAPPER = [
  // Traps first: a stop that arrives while the child is being started is passed on once it runs.
  "child=",
  "trap 'trapped=1; if [ -n \"$child\" ]; then kill -TERM \"$child\" 2>/dev/null; else pending=1; fi' TERM",
  "trap 'trapped=1; if [ -n \"$child\" ]; then kill -HUP \"$child\" 2>/dev/null; else pending_hup=1; fi' HUP",
  '"$@" & child=$!',
  // The child may already run (and have told launchd so) before $child is set: a reload or a
  // stop that came in between is passed on now, in the order that matters (reload, then stop).
  'if [ -n "${pending_hup:-}" ]; then kill -HUP "$child" 2>/dev/null; fi',
  'if [ -n "${pending:-}" ]; then kill -TERM "$child" 2>/dev/null; fi',
  // A trap interrupts wait (status > 128) while the child still runs: wait again for its own status.
  'while :; do trapped=; wait "$child"; code=$?; if [ -z "$trapped" ] || [ "$code" -le 128 ]; then break; fi; done',
  'if [ "$code" -eq 78 ]; then exit 0; fi',
  'exit "$code"',
].join("\n");

function xml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function launchdPlist(spec: ServiceSpec): string {
  const argv = ["/bin/sh", "-c", LAUNCHD_WRAPPER, "opencode-orchestrator", ...orchestrateCommand(spec)];
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    "<dict>",
    `  <key>Label</key><string>${LAUNCHD_LABEL}</string>`,
    "  <key>ProgramArguments</key>",
    "  <array>",
    ...argv.map((a) => `    <string>${xml(a)}</string>`),
    "  </array>",
    ...(spec.path ? ["  <key>EnvironmentVariables</key>", `  <dict><key>PATH</key><string>${xml(spec.path)}</string></dict>`] : []),
    "  <key>RunAtLoad</key><true/>",
    "  <!-- Restart after a crash; not after a clean exit or a config error (the wrapper maps 78 to 0). -->",
    "  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>",
    "  <key>ThrottleInterval</key><integer>5</integer>",
    `  <!-- shutdown_timeout (${spec.shutdownTimeoutSeconds} s) + ${STOP_MARGIN_SECONDS} s to stop the OpenCode servers. -->`,
    `  <key>ExitTimeOut</key><integer>${stopTimeoutSeconds(spec)}</integer>`,
    `  <key>StandardErrorPath</key><string>${xml(spec.logFile)}</string>`,
    "</dict>",
    "</plist>",
  ];
  return lines.join("\n") + "\n";
}
