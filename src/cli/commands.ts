// Command table. Only metadata lives here; each command's module is imported lazily so
// `--help` and small commands don't pay for the backend, the agent or the prompts.
import type { CommandSpec } from "./command.ts";

const configFlag = {
  type: "string",
  value: "PATH",
  description: "workers.json to use (default: $XDG_CONFIG_HOME/opencode-orchestrator/workers.json; env OPENCODE_ORCHESTRATOR_CONFIG)",
} as const;

const logFlags = {
  "log-level": { type: "string", value: "LEVEL", description: "error, warn, info or debug (env OPENCODE_ORCHESTRATOR_LOG_LEVEL)" },
  "log-format": { type: "string", value: "FORMAT", description: "text or json (env OPENCODE_ORCHESTRATOR_LOG_FORMAT)" },
} as const;

const adminConnectionFlags = {
  url: { type: "string", value: "URL", description: "Backend URL (env CONVEX_URL)" },
  "admin-key": { type: "string", value: "KEY", description: "Admin key (env CONVEX_ADMIN_KEY or CONVEX_DEPLOY_KEY)" },
} as const;

export const COMMANDS: CommandSpec[] = [
  {
    name: "dev",
    summary: "Run one worker in the current folder, from .env (asks on first run)",
    usage: "dev [--env-file PATH] [--log-level LEVEL] [--log-format text|json]",
    details:
      "Reads WORKER_TOKEN and CONVEX_URL from the environment or .env (the environment wins). On a terminal, missing values\n" +
      "are asked for and saved to .env (mode 0600). Ctrl+C drains (the running answer finishes), a second Ctrl+C interrupts it,\n" +
      "a third exits at once.",
    options: {
      "env-file": { type: "string", value: "PATH", description: "The .env file to read and save (default ./.env)" },
      ...logFlags,
    },
    load: () => import("./dev.ts"),
  },
  {
    name: "orchestrate",
    summary: "Run every worker of workers.json, supervised, with hot reload and a status endpoint",
    usage: "orchestrate [--config PATH] [--status-address HOST:PORT|off] [--log-level LEVEL] [--log-format text|json]",
    details:
      "Writes a commented template when workers.json is missing (exit 78). Edits to the file are applied without a restart\n" +
      "(also on SIGHUP); an invalid edit is rejected and the last good config keeps running. Ctrl+C drains all workers under\n" +
      "one deadline (shutdown_timeout), a second Ctrl+C interrupts running answers, a third exits at once.",
    options: {
      config: configFlag,
      "status-address": { type: "string", value: "HOST:PORT", description: 'Serve /healthz, /status, /metrics here (default 127.0.0.1:7420; "off" disables)' },
      ...logFlags,
    },
    load: () => import("./orchestrate.ts"),
  },
  {
    name: "validate",
    summary: "Check workers.json and show the workers it defines",
    usage: "validate [--config PATH] [--json]",
    details: "Loads workers.json exactly as `orchestrate` does. Exit 0 when valid, 78 when not. Never writes a file.",
    options: {
      config: configFlag,
      json: { type: "boolean", description: "Print one JSON object on stdout instead of a table" },
    },
    load: () => import("./validate.ts"),
  },
  {
    name: "admin",
    summary: "Add, approve, revoke, pause, resume and list workers (needs the backend's admin key)",
    usage: "admin <add-worker|approve|revoke|pause|resume|list> [WORKER] [flags]",
    details: [
      "Subcommands:",
      "  add-worker --machine NAME [--name NAME]  create a pending worker; prints its token on stdout (shown once)",
      "  approve WORKER                           let a worker (id or name) take prompts",
      "  revoke WORKER                            stop a worker for good; it must get a new token",
      "  pause WORKER                             finish running answers, take no new prompts (they wait queued)",
      "  resume WORKER                            take prompts again",
      "  list [--json]                            machines and workers with approval, status, last heartbeat",
      "",
      "Works the same against the embedded backend and a Convex deployment.",
    ].join("\n"),
    positionals: [1, 2],
    options: {
      machine: { type: "string", value: "NAME", description: "Machine name for add-worker (created if new)" },
      name: { type: "string", value: "NAME", description: "Worker name for add-worker (default: generated)" },
      json: { type: "boolean", description: "list: print JSON on stdout" },
      ...adminConnectionFlags,
    },
    load: () => import("./admin.ts"),
  },
  {
    name: "chat",
    summary: "Send a prompt to a worker and stream the answer to stdout",
    usage: 'chat --worker WORKER [--session ID | --new] ["prompt"]',
    details:
      "Continues your last session with that worker unless --new or --session is given. The prompt is read from stdin when not given.\n" +
      "Only the answer goes to stdout; the session id goes to stderr. Ctrl+C cancels the answer.\n" +
      "Exit 0 when the answer completes, 1 when it fails or is cancelled (reason on stderr).",
    positionals: [0, 1000],
    options: {
      worker: { type: "string", value: "WORKER", description: "Worker id or name" },
      session: { type: "string", value: "ID", description: "Continue this chat session" },
      new: { type: "boolean", description: "Start a new session" },
      title: { type: "string", value: "TITLE", description: "Title of a new session (default: the prompt's start)" },
      ...adminConnectionFlags,
    },
    load: () => import("./chat.ts"),
  },
  {
    name: "web",
    summary: "Serve the web page: workers, sessions and live answers in a browser",
    usage: "web [--address HOST:PORT] [--url URL] [--admin-key KEY]",
    details:
      "Serves the page on 127.0.0.1:7421 (port 0 picks a free one) and prints its login URL once on stdout. The admin key stays in\n" +
      "this process; the browser logs in with the token in that URL. Backend URL and admin key are found as for `admin`. Ctrl+C stops it.",
    options: {
      address: { type: "string", value: "HOST:PORT", description: "Address to serve on (default 127.0.0.1:7421)" },
      ...adminConnectionFlags,
      ...logFlags,
    },
    load: () => import("./web.ts"),
  },
  {
    name: "backend",
    summary: "Run the embedded Convex backend (in memory) for this machine",
    usage: "backend [--port N] [--host HOST] [--admin-key KEY]",
    details:
      "Serves the functions of convex/ on 127.0.0.1:3210 to the Convex clients (WebSocket sync and HTTP API). Prints exactly two\n" +
      "lines on stdout, CONVEX_URL=… and CONVEX_ADMIN_KEY=…, then logs to stderr. Data lives in memory. Ctrl+C (SIGINT/SIGTERM) stops it.\n" +
      "A --host other than loopback makes it reachable from other machines (a warning says so).",
    options: {
      port: { type: "string", value: "N", description: "Port to listen on (default 3210; 0 picks a free port)" },
      host: { type: "string", value: "HOST", description: "Address to bind (default 127.0.0.1)" },
      "admin-key": { type: "string", value: "KEY", description: "Admin key to accept (env CONVEX_ADMIN_KEY; default: random, printed)" },
      ...logFlags,
    },
    load: () => import("./backend.ts"),
  },
  {
    name: "status",
    summary: "Show the workers of a running orchestrator",
    usage: "status [--json] [--address HOST:PORT]",
    details:
      "Reads the orchestrator's local status endpoint: --address, else OPENCODE_ORCHESTRATOR_STATUS_ADDRESS, else status_address\n" +
      "of workers.json (OPENCODE_ORCHESTRATOR_CONFIG or the default location), else 127.0.0.1:7420. Exit 1 when nothing answers.",
    options: {
      json: { type: "boolean", description: "Print the status document as JSON" },
      address: {
        type: "string",
        value: "HOST:PORT",
        description: "Status address (default: as orchestrate uses it, see above)",
      },
    },
    load: () => import("./status.ts"),
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
