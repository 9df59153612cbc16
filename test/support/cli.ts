// Runs the real CLI the way users do: the compiled binary and the Node bundle.
// Both must be built first (`npm run build`; .ci/run does it).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { run, start, type RunOptions } from "./proc.ts";

export const REPO = resolve(import.meta.dirname, "../..");
export const BINARY = join(REPO, "dist/opencode-orchestrator");
export const NODE_BUNDLE = join(REPO, "dist/cli.mjs");

/**
 * The Node that runs the Node bundle: the machine's `node` when it is >= 22.5 (the
 * embedded backend needs node:sqlite), else the Node 22 devDependency (node_modules/.bin/node).
 */
export const NODE: string = pickNode();

function pickNode(): string {
  try {
    const [major, minor] = execFileSync("node", ["-p", "process.versions.node"], { encoding: "utf8" }).trim().split(".").map(Number);
    if (major! > 22 || (major === 22 && minor! >= 5)) return "node";
  } catch {
    // no node on PATH: use the bundled one
  }
  const local = join(REPO, "node_modules/.bin/node");
  if (!existsSync(local)) throw new Error(`the machine's node is older than 22.5 and ${local} is missing: run \`npm install\``);
  return local;
}

export type CliTarget = "binary" | "node";
export const CLI_TARGETS: CliTarget[] = ["binary", "node"];

function command(target: CliTarget, args: string[]): [string, string[]] {
  const file = target === "binary" ? BINARY : NODE_BUNDLE;
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` before the tests`);
  return target === "binary" ? [file, args] : [NODE, [file, ...args]];
}

export function runCli(target: CliTarget, args: string[], opts: RunOptions = {}) {
  const [cmd, argv] = command(target, args);
  return run(cmd, argv, opts);
}

export function startCli(target: CliTarget, args: string[], opts: RunOptions = {}) {
  const [cmd, argv] = command(target, args);
  return start(cmd, argv, opts);
}
