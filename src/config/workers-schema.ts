// The schema of workers.json, field by field. `.describe()` texts are the reference the
// template and docs/configuration.md follow. Field rules that need the file system (folders
// exist, token files) live in workers-file.ts; this file checks only the shape and values.
import { z } from "zod";
import { checkConvexUrl, checkStatusAddress, checkToken } from "./rules.ts";
import { DEFAULTS, type PermissionRules } from "./types.ts";
import { SANDBOX_MODES } from "./sandbox-settings.ts";
import { checkTagList, TAG_RULE } from "./tags.ts";

/** Attach a rule from rules.ts as a zod check, carrying its fix in the issue's params. */
function rule(check: (v: string) => { ok: true } | { ok: false; message: string; fix: string }) {
  return (value: string, ctx: z.RefinementCtx) => {
    const r = check(value);
    if (!r.ok) ctx.addIssue({ code: "custom", message: r.message, params: { fix: r.fix } });
  };
}

/**
 * Every number in the config, with its bounds and default: the one definition the schema,
 * the fixes in issues.ts, the template, `dev`'s environment and docs/configuration.md
 * (checked by a test) follow. Lower bounds keep a typo such as 0.0001 from hammering the
 * backend; heartbeat_interval stays at most 20 because a running answer's lease is 60 s and
 * the backend marks a worker offline after 45 s of silence.
 */
export const NUMBER_FIELDS = {
  max_concurrent_sessions: { min: 1, max: 64, whole: true, default: DEFAULTS.maxConcurrentSessions },
  agent_idle_timeout: { min: 1, max: 7 * 24 * 3600, whole: false, default: DEFAULTS.agentIdleTimeoutMs / 1000 },
  turn_inactivity_timeout: { min: 1, max: 24 * 3600, whole: false, default: DEFAULTS.turnInactivityTimeoutMs / 1000 },
  heartbeat_interval: { min: 1, max: 20, whole: false, default: DEFAULTS.heartbeatIntervalMs / 1000 },
  shutdown_timeout: { min: 0, max: 3600, whole: false, default: DEFAULTS.shutdownTimeoutMs / 1000 },
  // Spend limits (src/worker/budget.ts): no default, absent = no limit; `example` stands in for it.
  max_turn_cost: { min: 0, max: 100_000, whole: false, default: null, unit: "usd", example: 5 },
  max_daily_cost: { min: 0, max: 1_000_000, whole: false, default: null, unit: "usd", example: 50 },
  permission_timeout: { min: 1, max: 7 * 24 * 3600, whole: false, default: DEFAULTS.permissionTimeoutMs / 1000 },
} as const;

export type NumberField = keyof typeof NUMBER_FIELDS;

/** "a whole number from 1 to 64" / "a number of seconds from 1 to 20" / "an amount in US dollars from 0 to 100000". */
export function rangeText(field: NumberField): string {
  const f = NUMBER_FIELDS[field];
  const kind = "unit" in f ? "an amount in US dollars" : f.whole ? "a whole number" : "a number of seconds";
  return `${kind} from ${f.min} to ${f.max}`;
}

/** A value to show in fixes and the template: the default, or for a field without one its example. */
export function sampleValue(field: NumberField): number {
  const f = NUMBER_FIELDS[field];
  return f.default ?? f.example;
}

/** The fix shown for a bad value of a number field. */
export function rangeFix(field: NumberField): string {
  return `Use ${rangeText(field)}, e.g. ${sampleValue(field)}.`;
}

/** A number typed as text (dev's environment, .env) held to the field's bounds. */
export function checkNumberText(field: NumberField, text: string): { ok: true; value: number } | { ok: false; message: string; fix: string } {
  const f = NUMBER_FIELDS[field];
  const t = text.trim();
  const n = t === "" ? Number.NaN : Number(t);
  const fix = rangeFix(field);
  if (Number.isNaN(n)) return { ok: false, message: `is not a number ("${t.length > 20 ? `${t.slice(0, 17)}...` : t}")`, fix };
  if (f.whole && Number.isFinite(n) && !Number.isInteger(n)) return { ok: false, message: "must be a whole number", fix };
  const unusable = Number.isFinite(n) ? "" : `is too ${n > 0 ? "large" : "small"} to be a usable number: `;
  if (n < f.min) return { ok: false, message: `${unusable}must be at least ${f.min}`, fix };
  if (n > f.max) return { ok: false, message: `${unusable}must be at most ${f.max}`, fix };
  return { ok: true, value: n };
}

function numberField(field: NumberField, what: string) {
  const f = NUMBER_FIELDS[field];
  const base = f.whole ? z.int() : z.number();
  const dflt = f.default === null ? "no limit by default" : `default ${f.default}`;
  return base.min(f.min).max(f.max).describe(`${what} ${rangeText(field).replace(/^an? /, (a) => (a === "a " ? "A " : "An "))}, ${dflt}.`);
}

const PERMISSION_ACTIONS = ["ask", "allow", "deny"];
const PERMISSION_FIX = 'Use OpenCode\'s shape, e.g. {"bash": "ask", "edit": "ask"} or {"bash": {"git status": "allow", "*": "ask"}}; each value "ask", "allow" or "deny".';

/** Each rule of OpenCode's `permission` shape, each problem named by its path with the fix. */
function checkPermissionRules(rules: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const problem = (path: string[], message: string) => ctx.addIssue({ code: "custom", path, message, params: { fix: PERMISSION_FIX } });
  for (const [name, rule] of Object.entries(rules)) {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) problem([name], "is not an OpenCode permission name (e.g. bash, edit, read, external_directory)");
    if (typeof rule === "string") {
      if (!PERMISSION_ACTIONS.includes(rule)) problem([name], 'must be "ask", "allow" or "deny"');
    } else if (typeof rule === "object" && rule !== null && !Array.isArray(rule)) {
      for (const [pattern, action] of Object.entries(rule)) {
        if (pattern === "") problem([name], "has an empty pattern");
        if (typeof action !== "string" || !PERMISSION_ACTIONS.includes(action)) problem([name, pattern], 'must be "ask", "allow" or "deny"');
      }
    } else problem([name], 'must be "ask", "allow", "deny" or an object of pattern → "ask"/"allow"/"deny"');
  }
}

/** OpenCode's own `permission` shape: a rule per permission name, or per pattern within one. */
export const permissionSchema = z
  .record(z.string(), z.unknown())
  .superRefine(checkPermissionRules)
  .transform((rules) => rules as PermissionRules);

export const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

export const workerEntrySchema = z
  .strictObject({
    name: z
      .string()
      .regex(NAME_PATTERN, { message: 'may only use letters, digits, ".", "_" and "-" (at most 64, not starting with "." or "-")' })
      .optional()
      .describe("Display name used in logs and status. Unique within the file. Default: the worker id from the token."),
    token: z
      .string()
      .superRefine(rule(checkToken))
      .optional()
      .describe("Worker token machine_<machineId>:worker_<workerId>:secret_<secret>. Set exactly one of token and token_file."),
    token_file: z
      .string()
      .min(1)
      .optional()
      .describe("File holding the worker token (trimmed), instead of token. Relative to this file's folder; ~ is the home folder. Keep it mode 600."),
    working_directory: z
      .string()
      .min(1)
      .describe("Project folder the worker runs OpenCode in. Must exist. Relative to this file's folder; ~ is the home folder."),
    convex_url: z
      .string()
      .superRefine(rule(checkConvexUrl))
      .describe("Convex deployment URL. https:// required; http:// only for 127.0.0.0/8, localhost and [::1]."),
    tags: z
      .array(z.string())
      .superRefine((tags, ctx) => {
        const r = checkTagList(tags);
        if (!r.ok) ctx.addIssue({ code: "custom", message: r.message, params: { fix: r.fix } });
      })
      .optional()
      .describe(`Labels for routing: \`chat --tag api\` goes to any worker that has every tag asked for. ${TAG_RULE[0]!.toUpperCase()}${TAG_RULE.slice(1)}; duplicates are dropped. Default none.`),
    max_concurrent_sessions: numberField("max_concurrent_sessions", "Chat sessions this worker runs at once; more wait in a queue.").optional(),
    opencode_path: z
      .string()
      .min(1)
      .optional()
      .describe("The opencode executable. A bare name is looked up on PATH; a path is relative to this file's folder. Default: opencode on PATH."),
    agent_idle_timeout: numberField("agent_idle_timeout", "Seconds without a turn after which the idle OpenCode server is stopped (started again on demand).").optional(),
    turn_inactivity_timeout: numberField("turn_inactivity_timeout", "Seconds a turn may go without any agent event before it is aborted.").optional(),
    heartbeat_interval: numberField(
      "heartbeat_interval",
      "Seconds between heartbeats to Convex; at most 20 because a running answer's lease is 60 s and the backend marks a worker offline after 45 s of silence.",
    ).optional(),
    max_turn_cost: numberField("max_turn_cost", "What one turn may cost (as OpenCode prices it) before the worker pauses it and asks a person to continue.").optional(),
    max_daily_cost: numberField("max_daily_cost", "What this worker's turns may cost per UTC day before it pauses the running turn and asks a person to continue.").optional(),
    permission_timeout: numberField("permission_timeout", "Seconds a permission request or question waits for a person before it is rejected.").optional(),
    permission: permissionSchema
      .optional()
      .describe('OpenCode permission rules laid over your own OpenCode config, to make the agent ask for more, e.g. {"bash": "ask", "edit": "ask"}; a person answers with `reply`. Values: "ask", "allow", "deny", or per pattern {"git *": "allow"}.'),
    sandbox: z
      .enum(SANDBOX_MODES)
      .optional()
      .describe('Run OpenCode in a sandbox that hides our config, tokens, data and the other workers\' folders: "auto" (default: on where the machine supports it, else off with a warning), "on" (refuse to start without it), "off".'),
    sandbox_network: z.boolean().optional().describe("Let the sandboxed agent use the network (the model provider needs it). Default true; false is not supported yet."),
    sandbox_hide: z.array(z.string().min(1)).optional().describe("More files or folders the sandboxed agent must not see (e.g. ~/.ssh, ~/.aws). Relative to this file's folder; ~ is the home folder."),
    sandbox_writable: z.array(z.string().min(1)).optional().describe("More folders the sandboxed agent may write (e.g. a shared build cache). Relative to this file's folder; ~ is the home folder."),
  })
  .describe("One worker: one token, one project folder, one Convex deployment.");

export const workersFileSchema = z
  .strictObject({
    $schema: z.string().optional().describe("Optional JSON schema reference for editors; ignored."),
    workers: z.array(workerEntrySchema).min(1).describe("The workers this host runs, each with its own token, folder and Convex URL."),
    shutdown_timeout: numberField("shutdown_timeout", "Seconds to let in-flight work finish on stop before it is cancelled.").optional(),
    status_address: z
      .string()
      .superRefine(rule(checkStatusAddress))
      .optional()
      .describe('host:port for the local /healthz, /status and /metrics endpoint, or "off". Default 127.0.0.1:7420.'),
  })
  .describe("workers.json: the workers `opencode-orchestrator orchestrate` runs.");

export type WorkerEntry = z.infer<typeof workerEntrySchema>;
export type WorkersFile = z.infer<typeof workersFileSchema>;

export const WORKER_KEYS = Object.keys(workerEntrySchema.shape);
export const TOP_LEVEL_KEYS = Object.keys(workersFileSchema.shape);
