// Spawning `opencode serve` and capturing its output: the process runs in its own group (so a
// stop reaches the tools it starts), its "listening" line gives the URL, and the last lines are
// kept for error messages.
import { spawn, type ChildProcess } from "node:child_process";
import { errorMessage, RuntimeFailure } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { agentEnv } from "./env.ts";
import { sandboxSpawn, type SandboxRequest } from "./sandbox/index.ts";

export const INSTALL_HINT = "Install OpenCode with `npm i -g opencode-ai` (see https://opencode.ai), or point to the opencode executable with `opencode_path` in workers.json (OPENCODE_PATH for dev).";

const LISTENING = /opencode server listening on (http:\/\/\S+)/;
/** Lines of output kept for error messages. */
const TAIL_LINES = 20;
/** Output without a newline is cut into lines this long, so it never grows without bound. */
const MAX_LINE_CHARS = 16_384;

export type SpawnedServer = {
  child: ChildProcess;
  pid: number;
  /** The URL from the "listening" line; never resolves if the line never comes. */
  url: Promise<string>;
  /** The last lines of output (stdout and stderr), oldest first. */
  tail: string[];
};

/** Spawns the server; rejects with a RuntimeFailure naming the fix when it cannot be run at all. */
export async function spawnServer(o: {
  command: string;
  /** Set by the user (null → looked up on PATH); named in errors. */
  opencodePath: string | null;
  directory: string;
  env: NodeJS.ProcessEnv;
  marker: string;
  password: string;
  log: Logger;
  /** What the agent must not see; absent = no sandbox. */
  sandbox?: SandboxRequest;
  /** The worker's OpenCode permission rules, laid over the user's own config. */
  permission?: Record<string, unknown>;
}): Promise<SpawnedServer> {
  // The same command, wrapped in bwrap / sandbox-exec (throws SandboxUnavailable for "on" without one).
  const boxed = sandboxSpawn(
    { command: o.command, args: ["serve", "--hostname", "127.0.0.1", "--port", "0"], env: agentEnv(o.env, { marker: o.marker, password: o.password, permission: o.permission }) },
    o.directory,
    o.sandbox,
  );
  o.log.debug("OpenCode sandbox", { state: boxed.state, ...(boxed.warning ? { warning: boxed.warning } : {}) });
  const child = spawn(boxed.spec.command, boxed.spec.args, {
    cwd: o.directory,
    env: boxed.spec.env,
    detached: true, // own process group: stop() reaches the tools it spawned too (bwrap leads it)
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    await new Promise<void>((res, rej) => {
      child.once("spawn", res);
      child.once("error", rej);
    });
  } catch (err) {
    throw spawnFailure(err, o.opencodePath);
  }
  const tail: string[] = [];
  let urlFound: (url: string) => void = () => {};
  const url = new Promise<string>((res) => (urlFound = res));
  const onLine = (stream: "stdout" | "stderr", line: string) => {
    const m = LISTENING.exec(line);
    if (m) urlFound(m[1]!);
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    o.log.debug(`opencode ${stream}: ${line}`);
  };
  child.stdout!.on("data", lineReader((l) => onLine("stdout", l)));
  child.stderr!.on("data", lineReader((l) => onLine("stderr", l)));
  return { child, pid: child.pid!, url, tail };
}

export function spawnFailure(err: unknown, opencodePath: string | null): RuntimeFailure {
  const code = (err as NodeJS.ErrnoException).code;
  const what = opencodePath ? `opencode_path ${opencodePath}` : "`opencode` (looked up on PATH)";
  if (code === "ENOENT") return new RuntimeFailure(`OpenCode was not found: ${what} does not exist`, { hint: INSTALL_HINT, cause: err });
  if (code === "EACCES") return new RuntimeFailure(`OpenCode cannot be run: ${what} is not executable`, { hint: INSTALL_HINT, cause: err });
  return new RuntimeFailure(`OpenCode could not be started: ${errorMessage(err)}`, { hint: INSTALL_HINT, cause: err });
}

/** Splits a byte stream into non-empty lines (trailing whitespace trimmed). */
function lineReader(onLine: (line: string) => void): (chunk: Buffer) => void {
  let buf = "";
  return (chunk) => {
    buf += chunk.toString("utf8");
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trimEnd();
      buf = buf.slice(nl + 1);
      if (line) onLine(line);
    }
    if (buf.length > MAX_LINE_CHARS) {
      onLine(buf.slice(0, MAX_LINE_CHARS));
      buf = "";
    }
  };
}
