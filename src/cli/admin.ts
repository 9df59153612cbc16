// `admin`: person-side operations from the terminal — add, approve, revoke and list workers —
// against the embedded backend or a real Convex deployment (admin key required).
import { connectAdmin } from "../backend/admin-client.ts";
import type { WorkerListEntry, WorkerSummary } from "../backend/api.ts";
import { stdoutColors, stderrColors } from "../util/colors.ts";
import { EXIT, UsageError } from "../util/errors.ts";
import { safeJson, safeLine } from "../util/terminal-text.ts";
import type { CommandContext } from "./command-spec.ts";
import { resolvePersonTarget } from "./up-target.ts";
import { DEFAULT_ADMIN_TIMEOUT_MS, type adminOptions } from "./command-table.ts";
import { formatAge, renderTable, tagSuffix } from "./table.ts";

export const ADMIN_SUBCOMMANDS = ["add-worker", "approve", "revoke", "pause", "resume", "list"] as const;

function summaryJson(w: WorkerListEntry) {
  return {
    machineId: w.machineId,
    machineName: w.machineName,
    workerId: w.workerId,
    name: w.name,
    approval: w.approval,
    status: w.status,
    lastHeartbeatAt: w.lastHeartbeatAt === null ? null : new Date(w.lastHeartbeatAt).toISOString(),
    hostname: w.hostname,
    version: w.version,
    directory: w.directory,
    createdAt: new Date(w.createdAt).toISOString(),
    approvedAt: w.approvedAt === null ? null : new Date(w.approvedAt).toISOString(),
    models: w.models,
    paused: w.paused,
    tags: w.tags ?? [],
    capacity: w.capacity ?? null,
    pendingRequests: w.pendingRequests,
  };
}

/** The models `chat --model` takes, the first few by name (`--json` lists them all). */
function modelsCell(w: WorkerListEntry): string {
  const keys = w.models.map((m) => safeLine(`${m.providerId}/${m.modelId}`));
  if (keys.length === 0) return "not listed yet";
  return keys.length <= 3 ? keys.join(", ") : `${keys.slice(0, 2).join(", ")} +${keys.length - 2} more`;
}

export async function run(ctx: CommandContext<typeof adminOptions>): Promise<number> {
  const [sub, arg] = ctx.positionals as [string, string | undefined];
  if (!(ADMIN_SUBCOMMANDS as readonly string[]).includes(sub)) {
    throw new UsageError(`unknown admin command "${sub}" (expected one of: ${ADMIN_SUBCOMMANDS.join(", ")})`, { command: "admin" });
  }
  const target = resolvePersonTarget({ url: ctx.flags.url, adminKey: ctx.flags["admin-key"] }, ctx.stderr);
  const admin = connectAdmin(target.url, target.adminKey, { timeoutMs: (ctx.flags.timeout ?? DEFAULT_ADMIN_TIMEOUT_MS / 1000) * 1000 });
  const err = stderrColors();
  try {
    switch (sub) {
      case "add-worker": {
        const machine = ctx.flags.machine;
        if (!machine) throw new UsageError("add-worker needs --machine <machine name>", { command: "admin" });
        const r = await admin.addWorker(machine, ctx.flags.name);
        ctx.stdout(r.token);
        ctx.stderr(
          `${err.ok("Created")} worker "${safeLine(r.name)}" (id ${safeLine(r.workerId)}) on machine "${safeLine(r.machineName)}", awaiting approval.\n` +
            `The token above is shown only now: put it in your .env (WORKER_TOKEN=…) or workers.json.\n` +
            `Approve it with: opencode-orchestrator admin approve ${safeLine(r.name)}`,
        );
        return EXIT.ok;
      }
      case "approve":
      case "revoke": {
        if (!arg) throw new UsageError(`${sub} needs a worker id or name`, { command: "admin" });
        const w = sub === "approve" ? await admin.approve(arg) : await admin.revoke(arg);
        ctx.stderr(`${sub === "approve" ? err.ok("Approved") : err.warn("Revoked")} worker "${safeLine(w.name)}" (id ${safeLine(w.workerId)}) on machine "${safeLine(w.machineName)}".`);
        return EXIT.ok;
      }
      case "pause":
      case "resume": {
        if (!arg) throw new UsageError(`${sub} needs a worker id or name`, { command: "admin" });
        const w = await admin.setPaused(arg, sub === "pause");
        ctx.stderr(
          sub === "pause"
            ? `${err.warn("Paused")} worker "${safeLine(w.name)}" (id ${safeLine(w.workerId)}): it finishes the answers it is running and takes no new prompts (they wait queued) until \`admin resume ${safeLine(w.name)}\`.`
            : `${err.ok("Resumed")} worker "${safeLine(w.name)}" (id ${safeLine(w.workerId)}): it takes prompts again.`,
        );
        return EXIT.ok;
      }
      case "list": {
        const workers = await admin.list();
        if (ctx.flags.json) {
          ctx.stdout(safeJson({ workers: workers.map(summaryJson) }, 2));
          return EXIT.ok;
        }
        if (workers.length === 0) {
          ctx.stderr("No workers yet. Add one with: opencode-orchestrator admin add-worker --machine <name>");
          return EXIT.ok;
        }
        const c = stdoutColors();
        const now = Date.now();
        // Names, ids and folders come from the backend and the workers' own registration.
        const rows = workers.map((w) => [
          safeLine(w.machineName),
          safeLine(w.name) + tagSuffix(w.tags),
          safeLine(w.workerId),
          w.approval === "approved" ? c.ok(w.approval) : w.approval === "revoked" ? c.error(w.approval) : c.warn(safeLine(w.approval)),
          w.paused ? c.warn(`${safeLine(w.status)}, paused`) : safeLine(w.status),
          w.lastHeartbeatAt === null ? "never" : `${formatAge(now - w.lastHeartbeatAt)} ago`,
          w.pendingRequests > 0 ? c.warn(String(w.pendingRequests)) : "0",
          safeLine(w.directory ?? ""),
          modelsCell(w),
        ]);
        ctx.stdout(renderTable(["MACHINE", "WORKER", "ID", "APPROVAL", "STATUS", "HEARTBEAT", "REQUESTS", "FOLDER", "MODELS"], rows, { headerStyle: c.bold }));
        const waiting = workers.reduce((n, w) => n + w.pendingRequests, 0);
        if (waiting > 0) ctx.stderr(`${waiting} request${waiting === 1 ? " waits" : "s wait"} for an answer: see them with \`opencode-orchestrator reply\`.`);
        return EXIT.ok;
      }
    }
  } finally {
    await admin.close();
  }
  return EXIT.ok;
}
