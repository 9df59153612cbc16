// `validate [--config PATH] [--json]`: loads workers.json exactly as `orchestrate` does
// (minus writing a template) and shows the workers it defines, or every problem.
import { resolveConfigPath } from "../config/paths.ts";
import type { OrchestratorConfig } from "../config/types.ts";
import { loadWorkersConfig } from "../config/workers-file.ts";
import { stderrColors, stdoutColors } from "../util/colors.ts";
import { ConfigError, EXIT, type ConfigIssue } from "../util/errors.ts";
import { redact } from "../util/redact.ts";
import type { CommandContext } from "./command-spec.ts";
import { renderTable } from "./table.ts";

type JsonIssue = { path: string; message: string; fix?: string; file?: string };

export async function run(ctx: CommandContext): Promise<number> {
  const flag = typeof ctx.flags.config === "string" ? ctx.flags.config : undefined;
  const { path } = resolveConfigPath({ flag });
  const json = ctx.flags.json === true;

  let config: OrchestratorConfig;
  try {
    config = await loadWorkersConfig(path, { createTemplate: false });
  } catch (e) {
    if (json && e instanceof ConfigError) {
      const errors = e.issues.length > 0 ? e.issues.map((i) => toJson(i, path)) : [{ path: "", message: e.message + (e.hint ? `. ${e.hint}` : "") }];
      ctx.stdout(report({ ok: false, config: path, workers: [], errors, warnings: [] }));
    }
    // src/index.ts formats it on stderr and exits 78.
    throw e;
  }

  if (json) {
    ctx.stdout(
      report({
        ok: true,
        config: path,
        workers: config.workers.map((w) => ({
          name: w.name,
          machineId: w.token.machineId,
          workerId: w.token.workerId,
          workingDirectory: w.workingDirectory,
          convexUrl: w.convexUrl,
        })),
        errors: [],
        warnings: config.warnings.map((i) => toJson(i, path)),
      }),
    );
    return EXIT.ok;
  }

  ctx.stdout(table(config));
  const c = stderrColors();
  for (const w of config.warnings) {
    const where = [w.file && w.file !== path ? w.file : "", w.path].filter(Boolean).join(": ");
    ctx.stderr(`${c.warn("warning:")} ${where ? `${where}: ` : ""}${w.message}${w.fix ? `\n  ${c.dim("fix:")} ${w.fix}` : ""}`);
  }
  const n = config.workers.length;
  ctx.stderr(`${c.ok("✓")} ${path} is valid: ${n} worker${n === 1 ? "" : "s"}${config.warnings.length ? `, ${config.warnings.length} warning${config.warnings.length === 1 ? "" : "s"}` : ""}.`);
  return EXIT.ok;
}

function toJson(i: ConfigIssue, configPath: string): JsonIssue {
  return {
    path: i.path,
    message: i.message,
    ...(i.fix ? { fix: i.fix } : {}),
    ...(i.file && i.file !== configPath ? { file: i.file } : {}),
  };
}

/** One line of JSON. Redacted once more as a last line of defence: it must never carry a secret. */
function report(value: unknown): string {
  return redact(JSON.stringify(value));
}

function table(config: OrchestratorConfig): string {
  const rows = config.workers.map((w) => [w.name, w.token.machineId, w.token.workerId, w.workingDirectory, w.convexUrl]);
  return renderTable(["NAME", "MACHINE", "WORKER", "FOLDER", "CONVEX URL"], rows, { headerStyle: stdoutColors().bold });
}
