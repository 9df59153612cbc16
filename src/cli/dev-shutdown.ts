// dev's drain deadline: SHUTDOWN_TIMEOUT (seconds) from the environment or the .env file (the
// environment wins, as for every dev setting), with the bounds of workers.json's
// shutdown_timeout, whose schema defines them.
import { readFileSync } from "node:fs";
import { parseEnvText } from "../config/env-file.ts";
import type { OrchestratorConfig } from "../config/types.ts";
import { workersFileSchema } from "../config/workers-schema.ts";
import { ConfigError } from "../util/errors.ts";

export const SHUTDOWN_TIMEOUT_VAR = "SHUTDOWN_TIMEOUT";

const schema = workersFileSchema.shape.shutdown_timeout.unwrap();

function fromEnvFile(path: string): string | undefined {
  try {
    return parseEnvText(readFileSync(path, "utf8")).values.get(SHUTDOWN_TIMEOUT_VAR);
  } catch {
    return undefined; // no .env: the loader already said what it needed from it
  }
}

/** The config with dev's drain deadline from SHUTDOWN_TIMEOUT, when set. */
export function withDevShutdownTimeout(config: OrchestratorConfig, env: NodeJS.ProcessEnv = process.env): OrchestratorConfig {
  if (config.source.kind !== "env") return config;
  const fromEnv = env[SHUTDOWN_TIMEOUT_VAR]?.trim() || undefined;
  const raw = fromEnv ?? fromEnvFile(config.source.envFile)?.trim();
  if (raw === undefined || raw === "") return config;
  const parsed = schema.safeParse(Number(raw));
  if (!parsed.success || !/^\s*\d+(\.\d+)?\s*$/.test(raw)) {
    throw new ConfigError("dev mode cannot use its settings", {
      issues: [
        {
          file: fromEnv !== undefined ? "environment" : config.source.envFile,
          path: SHUTDOWN_TIMEOUT_VAR,
          message: `must be a number of seconds from ${schema.minValue} to ${schema.maxValue} (got "${raw}")`,
          fix: `Set ${SHUTDOWN_TIMEOUT_VAR} to how long Ctrl+C lets running answers finish, e.g. ${SHUTDOWN_TIMEOUT_VAR}=60.`,
        },
      ],
    });
  }
  return { ...config, shutdownTimeoutMs: Math.round(parsed.data * 1000) };
}
