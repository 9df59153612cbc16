// Runs the real CLI the way users do: the compiled binary and the Node bundle.
// Both must be built first (`npm run build`; .ci/run does it).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { run, start, type RunOptions } from "./proc.ts";

export const REPO = resolve(import.meta.dirname, "../..");
export const BINARY = join(REPO, "dist/opencode-orchestrator");
export const NODE_BUNDLE = join(REPO, "dist/cli.mjs");

export type CliTarget = "binary" | "node";
export const CLI_TARGETS: CliTarget[] = ["binary", "node"];

function command(target: CliTarget, args: string[]): [string, string[]] {
  const file = target === "binary" ? BINARY : NODE_BUNDLE;
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` before the tests`);
  return target === "binary" ? [file, args] : ["node", [file, ...args]];
}

export function runCli(target: CliTarget, args: string[], opts: RunOptions = {}) {
  const [cmd, argv] = command(target, args);
  return run(cmd, argv, opts);
}

export function startCli(target: CliTarget, args: string[], opts: RunOptions = {}) {
  const [cmd, argv] = command(target, args);
  return start(cmd, argv, opts);
}
