// One `up` per worker: a second `up` in the same folder would start a second OpenCode on the
// same folder under the same token, and the two would take each other's prompts. Each running
// `up` claims its workers with a pid file in the state folder; a claim whose `up` is gone
// (killed) is taken over.
import { linkSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { stateDir } from "../config/paths.ts";
import { RuntimeFailure } from "../util/errors.ts";
import { pidAlive } from "../util/process-group.ts";
import { writeSecureFile } from "../util/secure-file.ts";

export type WorkerClaims = { release(): void };

function holder(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Claims every worker or none; throws naming the folder and the `up` that runs it. */
export function claimWorkers(workers: { workerId: string; name: string; folder: string }[], dir = join(stateDir(), "up")): WorkerClaims {
  const temp = join(dir, `.claim.${process.pid}`);
  writeSecureFile(temp, `${process.pid}\n`);
  const taken: string[] = [];
  const release = () => {
    for (const p of taken.splice(0)) if (holder(p) === process.pid) rmSync(p, { force: true });
  };
  try {
    for (const w of workers) {
      const path = join(dir, `${w.workerId}.pid`);
      for (;;) {
        try {
          linkSync(temp, path);
          taken.push(path);
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        }
        const pid = holder(path);
        if (pid !== undefined && pid !== process.pid && pidAlive(pid)) {
          throw new RuntimeFailure(`${w.folder} is already served by another up (pid ${pid}, worker "${w.name}")`, {
            hint: "Use that one (chat works with it as it is), or stop it with Ctrl+C in its terminal first.",
          });
        }
        rmSync(path, { force: true });
      }
    }
  } catch (e) {
    release();
    throw e;
  } finally {
    rmSync(temp, { force: true });
  }
  return { release };
}
