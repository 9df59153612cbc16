// The commented workers.json written when none exists. It explains every field and, on
// purpose, does not validate until edited: the token is an obvious placeholder and the
// folder does not exist, so `orchestrate` can never start with made-up values.
import { DEFAULTS } from "./types.ts";
import { NUMBER_FIELDS as N } from "./workers-schema.ts";
import { SANDBOX_DEFAULTS } from "./sandbox-settings.ts";

export const TOKEN_PLACEHOLDER = "PASTE-YOUR-WORKER-TOKEN-HERE";

export function workersTemplate(): string {
  return `// opencode-orchestrator: the workers this host runs (JSON with comments).
//
// Fill in each worker below, then check the file with:
//     opencode-orchestrator validate
// and start every worker with:
//     opencode-orchestrator orchestrate
//
// Comments (// and /* */) and trailing commas are allowed. Relative paths are relative to
// THIS file's folder; "~" is your home folder. Keep this file private (chmod 600): it holds
// worker tokens. Full reference: docs/configuration.md.
{
  "workers": [
    {
      // Worker token: machine_<machineId>:worker_<workerId>:secret_<secret>
      // (get one with: opencode-orchestrator admin add-worker --machine <name>).
      // Instead of "token" you may set "token_file": "path/to/file" holding the token.
      // Exactly one of the two.
      "token": "${TOKEN_PLACEHOLDER}",

      // The project folder this worker runs OpenCode in. It must exist.
      "working_directory": "~/path/to/your/project",

      // Your Convex deployment URL. https:// is required; http:// is accepted only for
      // 127.0.0.1, localhost and [::1] (a local backend).
      "convex_url": "https://your-deployment.convex.cloud",

      // Optional, shown here with their defaults (or an example):
      // "name": "my-project",             // display name; default: the worker id; unique
      // "tags": ["api", "linux"],       // labels for routing: chat --tag api goes to any worker with every tag
      // "max_concurrent_sessions": ${N.max_concurrent_sessions.default},       // ${N.max_concurrent_sessions.min}-${N.max_concurrent_sessions.max} chat sessions at once; more wait in a queue
      // "opencode_path": "opencode",      // the opencode executable; default: opencode on PATH
      // "agent_idle_timeout": ${N.agent_idle_timeout.default},        // seconds (${N.agent_idle_timeout.min}-${N.agent_idle_timeout.max}) before an idle OpenCode server is stopped
      // "turn_inactivity_timeout": ${N.turn_inactivity_timeout.default},   // seconds (${N.turn_inactivity_timeout.min}-${N.turn_inactivity_timeout.max}) a turn may go silent before it is aborted
      // "heartbeat_interval": ${N.heartbeat_interval.default},         // seconds between heartbeats (${N.heartbeat_interval.min}-${N.heartbeat_interval.max})
      // "max_turn_cost": ${N.max_turn_cost.example},              // US dollars (${N.max_turn_cost.min}-${N.max_turn_cost.max}) a turn may cost before a person is asked to continue; default: no limit
      // "max_daily_cost": ${N.max_daily_cost.example},            // US dollars (${N.max_daily_cost.min}-${N.max_daily_cost.max}) per UTC day before a person is asked; default: no limit
      // "permission_timeout": ${N.permission_timeout.default},        // seconds (${N.permission_timeout.min}-${N.permission_timeout.max}) a permission request waits for a person
      // "permission": {"bash": "ask", "edit": "ask"},  // make OpenCode ask for more (a person answers with reply)
      // "sandbox": "${SANDBOX_DEFAULTS.mode}",              // agent sandbox: auto | on | off (docs/security.md)
      // "sandbox_network": ${SANDBOX_DEFAULTS.network},        // the sandboxed agent keeps the network (false: not supported yet)
      // "sandbox_hide": ["~/.ssh", "~/.aws"],  // more paths the agent must not see
      // "sandbox_writable": [],            // more folders the agent may write
    },
    // Add more workers here: one entry per project folder, each with its own token.
  ],

  // Optional, for the whole host:
  // "shutdown_timeout": ${N.shutdown_timeout.default},               // seconds (${N.shutdown_timeout.min}-${N.shutdown_timeout.max}) in-flight work may take to finish on stop
  // "status_address": "${DEFAULTS.statusAddress}",   // /healthz, /status, /metrics; or "off"
}
`;
}
