// Where `dev` and `orchestrate` find OpenCode for a worker without opencode_path / OPENCODE_PATH.
// `npm install` in this project puts OpenCode in node_modules/.bin, which is not on PATH: that
// copy, next to the program that runs (dist/ → ../node_modules/.bin), is used first; then PATH.
// Found nowhere, the workers still start (a person may install OpenCode meanwhile) but a warning
// says now, not at the first prompt, what to do.
import { existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import type { OrchestratorConfig } from "../config/types.ts";
import type { Logger } from "../util/log.ts";
import { findOnPath, isExecutableFile } from "../util/which.ts";

const EXE = process.platform === "win32" ? "opencode.exe" : "opencode";

/** The program's own file: the Node bundle (argv[1]) or the compiled binary (execPath). */
function programFile(): string | undefined {
  for (const candidate of [process.argv[1], process.execPath]) {
    if (candidate && existsSync(candidate)) {
      try {
        return realpathSync(candidate);
      } catch {
        // not resolvable: try the next
      }
    }
  }
  return undefined;
}

/** OpenCode installed with this project (`npm install`), next to the running program. */
export function bundledOpencode(program = programFile()): string | undefined {
  if (!program) return undefined;
  const candidate = join(dirname(program), "..", "node_modules", ".bin", EXE);
  return isExecutableFile(candidate) ? candidate : undefined;
}

export function opencodeOnPath(path = process.env.PATH ?? ""): string | undefined {
  return findOnPath(EXE, path);
}

/**
 * The config with each default lookup pinned to the OpenCode found (ours first, then PATH);
 * `warn` is told once when there is none. Applied to every loaded config alike, so a reload
 * does not see a changed opencode_path where the file changed nothing.
 */
export function withOpencodeFound(config: OrchestratorConfig, log: Logger, found = { bundled: bundledOpencode(), onPath: opencodeOnPath() }): OrchestratorConfig {
  const defaults = config.workers.filter((w) => w.opencodePath === null);
  if (defaults.length === 0) return config;
  if (found.bundled) {
    return { ...config, workers: config.workers.map((w) => (w.opencodePath === null ? { ...w, opencodePath: found.bundled! } : w)) };
  }
  if (!found.onPath) {
    log.warn(
      `OpenCode was not found (not on PATH, not in node_modules/.bin next to this program): ${defaults.map((w) => w.name).join(", ")} ` +
        "will fail every prompt until it is. Install it with `npm i -g opencode-ai` (then `opencode auth login`), " +
        "or set opencode_path in workers.json (OPENCODE_PATH for dev).",
    );
  }
  return config;
}
