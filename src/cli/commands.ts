// Command table. Only metadata lives here; each command's module is imported lazily so
// `--help` and small commands don't pay for the backend, the agent or the prompts.
import type { CommandSpec } from "./command.ts";

const configFlag = {
  type: "string",
  value: "PATH",
  description: "workers.json to use (default: $XDG_CONFIG_HOME/opencode-orchestrator/workers.json; env OPENCODE_ORCHESTRATOR_CONFIG)",
} as const;

const adminConnectionFlags = {
  url: { type: "string", value: "URL", description: "Backend URL (env CONVEX_URL)" },
  "admin-key": { type: "string", value: "KEY", description: "Admin key (env CONVEX_ADMIN_KEY or CONVEX_DEPLOY_KEY)" },
} as const;

export const COMMANDS: CommandSpec[] = [
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
    summary: "Add, approve, revoke and list workers (needs the backend's admin key)",
    usage: "admin <add-worker|approve|revoke|list> [WORKER] [flags]",
    details: [
      "Subcommands:",
      "  add-worker --machine NAME [--name NAME]  create a pending worker; prints its token on stdout (shown once)",
      "  approve WORKER                           let a worker (id or name) take prompts",
      "  revoke WORKER                            stop a worker for good; it must get a new token",
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
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
