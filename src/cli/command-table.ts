// Command table. Only metadata lives here; each command's module is imported lazily so
// `--help` and small commands don't pay for the backend, the agent or the prompts.
import { DEFAULTS } from "../config/types.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../util/log.ts";
import { defineCommand, type CommandSpec, type OptionSpec } from "./command-spec.ts";

const configFlag: OptionSpec = {
  type: "string",
  value: "PATH",
  description: "workers.json to use (default: $XDG_CONFIG_HOME/opencode-orchestrator/workers.json; env OPENCODE_ORCHESTRATOR_CONFIG)",
};

const logFlags = {
  "log-level": { type: "choice", choices: LOG_LEVELS, value: "LEVEL", description: `${LOG_LEVELS.join(", ")} (env OPENCODE_ORCHESTRATOR_LOG_LEVEL)` },
  "log-format": { type: "choice", choices: LOG_FORMATS, value: "FORMAT", description: `${LOG_FORMATS.join(" or ")} (env OPENCODE_ORCHESTRATOR_LOG_FORMAT)` },
} as const satisfies Record<string, OptionSpec>;

/** How long `admin` and `chat` wait for the backend to connect and answer a call, unless --timeout says otherwise. */
export const DEFAULT_ADMIN_TIMEOUT_MS = 30_000;

const adminConnectionFlags = {
  url: { type: "string", value: "URL", description: "Backend URL (env CONVEX_URL; with neither this nor a key given: the local backend of `up`)" },
  "admin-key": { type: "string", value: "KEY", description: "Admin key (env CONVEX_ADMIN_KEY or CONVEX_DEPLOY_KEY)" },
  timeout: {
    type: "number",
    min: 0.1,
    max: 3600,
    value: "SECONDS",
    description: `Give up when the backend does not connect or answer a call within this time (default ${DEFAULT_ADMIN_TIMEOUT_MS / 1000})`,
  },
} as const satisfies Record<string, OptionSpec>;

// Each command's flags, declared once: src/index.ts parses them into typed values, help.ts
// prints them, and the command's module types its context with them.
export const devOptions = {
  "env-file": { type: "string", value: "PATH", description: "The .env file to read and save (default ./.env)" },
  ...logFlags,
} as const satisfies Record<string, OptionSpec>;

export const orchestrateOptions = {
  config: configFlag,
  "status-address": { type: "string", value: "HOST:PORT", description: 'Serve /healthz, /status, /metrics here (default 127.0.0.1:7420; "off" disables)' },
  ...logFlags,
} as const satisfies Record<string, OptionSpec>;

export const serviceOptions = {
  "dry-run": { type: "boolean", description: "Print the unit (install) or the steps (uninstall); change nothing" },
  config: configFlag,
} as const satisfies Record<string, OptionSpec>;

export const validateOptions = {
  config: configFlag,
  json: { type: "boolean", description: "Print one JSON object on stdout instead of a table" },
} as const satisfies Record<string, OptionSpec>;

export const adminOptions = {
  machine: { type: "string", value: "NAME", description: "Machine name for add-worker (created if new)" },
  name: { type: "string", value: "NAME", description: "Worker name for add-worker (default: generated)" },
  json: { type: "boolean", description: "list: print JSON on stdout" },
  ...adminConnectionFlags,
} as const satisfies Record<string, OptionSpec>;

export const chatOptions = {
  worker: { type: "string", value: "WORKER", description: "Worker id or name" },
  tag: {
    type: "string",
    multiple: true,
    value: "TAG",
    description: "Instead of --worker: any worker with this tag (repeat: every tag must match), the one with the most room; a new session unless --session",
  },
  session: { type: "string", value: "ID", description: "Continue this chat session (it must belong to --worker)" },
  new: { type: "boolean", description: "Start a new session" },
  title: { type: "string", value: "TITLE", description: "Title of a new session (default: the prompt's start)" },
  json: { type: "boolean", description: "Print the turn as NDJSON events on stdout (docs/chat-json.md)" },
  model: { type: "string", value: "PROVIDER/MODEL", description: "Run this prompt with one of the worker's models (admin list shows them)" },
  permissions: {
    type: "choice",
    choices: ["once", "always", "reject"],
    description: "Answer every permission request and question of this answer so (questions: reject refuses, once/always pick each first option; spend limits still ask)",
  },
  ...adminConnectionFlags,
} as const satisfies Record<string, OptionSpec>;

export const replyOptions = {
  message: { type: "string", value: "TEXT", description: "With reject: tell the agent why (it reads this)" },
  answer: { type: "string", multiple: true, value: "TEXT", description: "Answer a question: option numbers (2, or 1,3 where it takes several) or your own words; once per question, in order" },
  worker: { type: "string", value: "WORKER", description: "Only this worker's requests (a request of another worker is refused)" },
  json: { type: "boolean", description: "Print JSON on stdout" },
  ...adminConnectionFlags,
} as const satisfies Record<string, OptionSpec>;

export const backendOptions = {
  port: { type: "number", integer: true, min: 0, max: 65535, value: "N", description: "Port to listen on (default 3210; 0 picks a free port)" },
  host: { type: "string", value: "HOST", description: "Address to bind (default 127.0.0.1)" },
  "admin-key": { type: "string", value: "KEY", description: "Admin key to accept (env CONVEX_ADMIN_KEY; default: the data folder's, made on first start)" },
  data: { type: "string", value: "DIR", description: "Data folder (default $XDG_DATA_HOME/opencode-orchestrator/backend)" },
  "in-memory": { type: "boolean", description: "Keep the data in memory only (gone when it stops)" },
  ...logFlags,
} as const satisfies Record<string, OptionSpec>;

export const upOptions = {
  "stop-backend": { type: "boolean", description: "Stop the local backend that up started (running ups lose their backend) and exit" },
  "web-address": {
    type: "string",
    value: "HOST:PORT|off",
    description: "Serve the web page here (default 127.0.0.1:7421, or a free port when that is taken; off: no page)",
  },
  ...logFlags,
} as const satisfies Record<string, OptionSpec>;

export const webOptions = {
  address: { type: "string", value: "HOST:PORT", description: "Address to serve on (default 127.0.0.1:7421; port 0 picks a free one)" },
  ...adminConnectionFlags,
  ...logFlags,
} as const satisfies Record<string, OptionSpec>;

export const statusOptions = {
  json: { type: "boolean", description: "Print the status document as JSON" },
  address: { type: "string", value: "HOST:PORT", description: "Status address (default: as orchestrate uses it, see above)" },
} as const satisfies Record<string, OptionSpec>;

export const COMMANDS: CommandSpec<any>[] = [
  defineCommand({
    name: "up",
    summary: "The main job on this machine: the local backend and a worker for each folder, in one command",
    usage: "up [FOLDER…] [--web-address HOST:PORT|off] [--log-level LEVEL] [--log-format text|json] | up --stop-backend",
    details:
      "Uses the local embedded backend (data in $XDG_DATA_HOME/opencode-orchestrator/backend) or starts it as a process of its\n" +
      "own that keeps running for other ups. Each folder (default: the current one) gets a worker named after it, created and\n" +
      "approved on the first run and reused afterwards (tokens in $XDG_CONFIG_HOME/opencode-orchestrator/local-workers.json).\n" +
      "Then `chat --worker NAME` in another terminal needs no setup. Ctrl+C drains like orchestrate. See docs/up.md.",
    positionals: [0, 1000],
    options: upOptions,
    load: () => import("./up.ts"),
  }),
  defineCommand({
    name: "dev",
    summary: "Run one worker in the current folder, from .env (asks on first run)",
    usage: "dev [--env-file PATH] [--log-level LEVEL] [--log-format text|json]",
    details:
      "Reads WORKER_TOKEN and CONVEX_URL from the environment or .env (the environment wins). On a terminal, missing values\n" +
      "are asked for and saved to .env (mode 0600). Ctrl+C drains: no new answer starts and running ones get WORKER_SHUTDOWN_TIMEOUT\n" +
      `seconds (environment or .env; default ${DEFAULTS.devShutdownTimeoutMs / 1000}) to finish before they are interrupted. A second Ctrl+C\n` +
      "interrupts them at once, a third exits at once. Exit 78 when the worker cannot run without a new token.",
    options: devOptions,
    load: () => import("./dev.ts"),
  }),
  defineCommand({
    name: "orchestrate",
    summary: "Run every worker of workers.json, supervised, with hot reload and a status endpoint",
    usage: "orchestrate [--config PATH] [--status-address HOST:PORT|off] [--log-level LEVEL] [--log-format text|json]",
    details:
      "Writes a commented template when workers.json is missing (exit 78). Edits to the file are applied without a restart\n" +
      "(also on SIGHUP); an invalid edit is rejected and the last good config keeps running. Ctrl+C drains all workers under\n" +
      "one deadline (shutdown_timeout), a second Ctrl+C interrupts running answers, a third exits at once.",
    options: orchestrateOptions,
    load: () => import("./orchestrate.ts"),
  }),
  defineCommand({
    name: "validate",
    summary: "Check workers.json and show the workers it defines",
    usage: "validate [--config PATH] [--json]",
    details: "Loads workers.json exactly as `orchestrate` does. Exit 0 when valid, 78 when not. Never writes a file.",
    options: validateOptions,
    load: () => import("./validate.ts"),
  }),
  defineCommand({
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
    options: adminOptions,
    load: () => import("./admin.ts"),
  }),
  defineCommand({
    name: "chat",
    summary: "Send a prompt to a worker and stream the answer to stdout",
    usage: 'chat (--worker WORKER | --tag TAG…) [--session ID | --new] [--model PROVIDER/MODEL] [--json] [--permissions once|always|reject] ["prompt"]',
    details:
      "Continues your last session with that worker unless --new or --session is given. The prompt is read from stdin when not given.\n" +
      "--tag instead sends to any worker with every tag given, the one with the most room (a new session unless --session;\n" +
      "stderr says when it waits, where it went and when it moved; docs/routing.md).\n" +
      "On a terminal with no prompt given: an interactive session (/help inside lists its commands; README: Interactive chat).\n" +
      "Only the answer goes to stdout; the session id goes to stderr. Ctrl+C cancels the answer.\n" +
      "When the agent asks for a permission or asks a question, chat says on stderr how to answer it with `reply` (from any\n" +
      "terminal) and keeps waiting; --permissions answers every such request of this answer by itself (a spend limit still waits).\n" +
      "With --json, stdout carries the whole turn as NDJSON instead: text, reasoning, tool, file, todo, usage, permission,\n" +
      "question and a last end event.\n" +
      "Exit 0 when the answer completes, 1 when it fails, is cancelled or is lost (reason on stderr), or when the backend does not\n" +
      "answer within --timeout.",
    positionals: [0, 1000],
    options: chatOptions,
    load: () => import("./chat.ts"),
  }),
  defineCommand({
    name: "reply",
    summary: "Answer a permission request or question an agent raised (or list the pending ones)",
    usage: "reply [REQUEST once|always|reject [--message TEXT] | REQUEST --answer TEXT…] [--worker WORKER] [--json]",
    details:
      "once allows this one time, always allows it for the rest of the OpenCode session, reject refuses it (--message tells the agent\n" +
      "why). A question is answered with --answer, once per question in order, or rejected: option numbers (2, or 1,3 where the\n" +
      "question takes several) pick those options when each is one; anything else is your own words, whole. Without a request id:\n" +
      "the pending requests, oldest first, with each question's numbered options. A request takes one answer: a second is refused (exit 1, saying how and when it was answered).\n" +
      "Backend URL and admin key are found as for `chat`.",
    positionals: [0, 2],
    options: replyOptions,
    load: () => import("./reply.ts"),
  }),
  defineCommand({
    name: "web",
    summary: "Serve the web page: workers, sessions and live answers in a browser",
    usage: "web [--address HOST:PORT] [--url URL] [--admin-key KEY]",
    details:
      "Serves the page on 127.0.0.1:7421 (port 0 picks a free one) and prints its login URL once on stdout. The admin key stays in\n" +
      "this process; the browser logs in with the token in that URL. Backend URL and admin key are found as for `admin`. Ctrl+C stops it.",
    options: webOptions,
    load: () => import("./web.ts"),
  }),
  defineCommand({
    name: "backend",
    summary: "Run the embedded Convex backend for this machine",
    usage: "backend [--port N] [--host HOST] [--admin-key KEY] [--data DIR | --in-memory]",
    details:
      "Serves the functions of convex/ on 127.0.0.1:3210 to the Convex clients (WebSocket sync and HTTP API). Prints exactly two\n" +
      "lines on stdout, CONVEX_URL=… and CONVEX_ADMIN_KEY=…, then logs to stderr. Data (and the admin key) live in\n" +
      "$XDG_DATA_HOME/opencode-orchestrator/backend (--data DIR elsewhere, --in-memory for nothing on disk). Ctrl+C (SIGINT/SIGTERM) stops it.\n" +
      "A --host other than loopback makes it reachable from other machines (a warning says so).",
    options: backendOptions,
    load: () => import("./backend.ts"),
  }),
  defineCommand({
    name: "status",
    summary: "Show the workers of a running orchestrator",
    usage: "status [--json] [--address HOST:PORT]",
    details:
      "Reads the orchestrator's local status endpoint: --address, else OPENCODE_ORCHESTRATOR_STATUS_ADDRESS, else status_address\n" +
      "of workers.json (OPENCODE_ORCHESTRATOR_CONFIG or the default location), else 127.0.0.1:7420. Exit 1 when nothing answers.",
    options: statusOptions,
    load: () => import("./status.ts"),
  }),
  defineCommand({
    name: "service",
    summary: "Install, remove or show orchestrate as a user service (systemd on Linux, launchd on macOS)",
    usage: "service <install|uninstall|status> [--dry-run] [--config PATH]",
    details:
      "install writes a systemd user unit or a LaunchAgent that drains on stop and does not restart after exit 78, enables and\n" +
      "starts it. --dry-run prints the unit on stdout and changes nothing. status shows the service manager's view and /healthz.\n" +
      "Exit 1 where no service manager runs (e.g. a container without systemd).",
    positionals: [1, 1],
    options: serviceOptions,
    load: () => import("./service.ts"),
  }),
  defineCommand({
    name: "completion",
    summary: "Print shell completion for bash, zsh or fish",
    usage: "completion <bash|zsh|fish>",
    details:
      "bash: opencode-orchestrator completion bash > ~/.local/share/bash-completion/completions/opencode-orchestrator\n" +
      'zsh:  opencode-orchestrator completion zsh > "${fpath[1]}/_opencode-orchestrator"  (or: source <(opencode-orchestrator completion zsh))\n' +
      "fish: opencode-orchestrator completion fish > ~/.config/fish/completions/opencode-orchestrator.fish",
    positionals: [1, 1],
    options: {},
    load: () => import("./completion.ts"),
  }),
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
