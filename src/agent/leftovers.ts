// Each running OpenCode server leaves a small record on disk, removed when it stops. If the
// orchestrator dies hard (SIGKILL, power cut of the terminal), its servers — each in its own
// process group, ~0.5 GB — survive it; the next start finds the records and stops them.
// A record is trusted only after checking that the live process really is that server:
// pids get reused, and we must never signal someone else's process.
import { execFileSync } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { stateDir } from "../config/paths.ts";
import type { Logger } from "../util/log.ts";
import { pidAlive, processesWithEnv, terminateGroup, terminatePids } from "../util/process-group.ts";
import { ensureSecureDir, SECRET_DIR_MODE, writeSecureFile } from "../util/secure-file.ts";
import { AGENT_MARKER_VAR } from "./env.ts";

/** What we remember about a server. No secrets: the password stays in memory only. */
export type AgentRecord = {
  pid: number;
  /** Value of OPENCODE_ORCHESTRATOR_AGENT in the server's environment. */
  marker: string;
  /** The orchestrator process that started it; a live owner keeps its servers. */
  ownerPid: number;
  directory: string;
  command: string;
  startedAt: string;
};

/** `<state folder>/agents`: one record per running OpenCode server. */
export function agentsDir(): string {
  return join(stateDir(), "agents");
}

export function writeAgentRecord(rec: AgentRecord, dir = agentsDir()): string {
  const file = join(dir, `${rec.pid}.json`);
  // The folder may predate us with looser permissions; records reveal what runs where.
  ensureSecureDir(dir);
  chmodSync(dir, SECRET_DIR_MODE);
  // Atomic: a reaper running beside us never reads half a record and mistakes it for stale.
  writeSecureFile(file, JSON.stringify(rec, null, 2) + "\n");
  return file;
}

export function removeAgentRecord(pid: number, dir = agentsDir()): void {
  rmSync(join(dir, `${pid}.json`), { force: true });
}

function readRecord(file: string): AgentRecord | null {
  try {
    const r = JSON.parse(readFileSync(file, "utf8"));
    if (typeof r?.pid === "number" && Number.isInteger(r.pid) && r.pid > 1 && typeof r.marker === "string" && r.marker.length >= 8) {
      return r as AgentRecord;
    }
  } catch {
    // unreadable or half-written: treated as stale
  }
  return null;
}

/** The live process `pid` is the server described by `rec`. */
export function isOurAgent(rec: Pick<AgentRecord, "pid" | "marker">): boolean {
  if (!pidAlive(rec.pid)) return false;
  if (process.platform === "linux") {
    try {
      const vars = readFileSync(`/proc/${rec.pid}/environ`, "utf8").split("\0");
      return vars.includes(`${AGENT_MARKER_VAR}=${rec.marker}`);
    } catch {
      return false; // gone, or another user's process
    }
  }
  // No /proc: settle for the command line of an OpenCode server.
  try {
    const cmd = execFileSync("ps", ["-o", "command=", "-p", String(rec.pid)], { encoding: "utf8" });
    return /opencode/.test(cmd) && /\bserve\b/.test(cmd);
  } catch {
    return false;
  }
}

export type ReapResult = { stopped: number[]; removed: number; kept: number };

/**
 * Stops servers left behind by orchestrator processes that no longer exist and deletes stale
 * records. Servers whose owner is still running (another `dev` on this host) are left alone.
 */
export async function reapLeftoverAgents(log: Logger, opts: { dir?: string; timeoutMs?: number } = {}): Promise<ReapResult> {
  const dir = opts.dir ?? agentsDir();
  const result: ReapResult = { stopped: [], removed: 0, kept: 0 };
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  } catch {
    return result;
  }
  await Promise.all(
    files.map(async (f) => {
      const file = join(dir, f);
      const rec = readRecord(file);
      if (rec && (rec.ownerPid === process.pid || (typeof rec.ownerPid === "number" && pidAlive(rec.ownerPid)))) {
        // Its orchestrator still runs (this one, or another `dev` on this host): not a leftover.
        result.kept++;
        return;
      }
      const leader = rec && isOurAgent(rec) ? rec.pid : null;
      // Tools it started may have outlived the server itself; they carry the same marker.
      const strays = rec ? processesWithEnv(AGENT_MARKER_VAR, rec.marker).filter((p) => p !== leader) : [];
      if (leader === null && strays.length === 0) {
        rmSync(file, { force: true });
        result.removed++;
        return;
      }
      log.warn("stopping an OpenCode server left behind by an earlier run", { pid: rec!.pid, directory: rec!.directory });
      if (leader !== null) await terminateGroup(leader, { gone: () => !pidAlive(leader), timeoutMs: opts.timeoutMs ?? 10_000 });
      const rest = processesWithEnv(AGENT_MARKER_VAR, rec!.marker);
      if (rest.length) await terminatePids(rest);
      rmSync(file, { force: true });
      result.stopped.push(rec!.pid);
    }),
  );
  return result;
}
