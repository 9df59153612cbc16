// The workers `up` made, one per project folder and backend: their tokens live here, under the
// XDG config folder (0600 file in a 0700 folder), never in the project folder where the agent
// works. `up` reads it to reuse a folder's worker and writes it when it creates one.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError } from "../util/errors.ts";
import { registerSecret } from "../util/redact.ts";
import { writeSecureFile } from "../util/secure-file.ts";
import { configDir } from "./paths.ts";
import { readConfigFile } from "./read-file.ts";
import { TOKEN_PATTERN } from "./token.ts";

export const LOCAL_WORKERS_FILE = "local-workers.json";

const recordSchema = z.object({
  backend: z.string().describe("Data folder of the embedded backend the worker belongs to"),
  folder: z.string().describe("Absolute, resolved path of the project folder"),
  name: z.string().describe("The worker's name on that backend"),
  workerId: z.string().describe("The worker's id on that backend"),
  token: z.string().regex(TOKEN_PATTERN).describe("The worker's token (secret)"),
});
export type LocalWorkerRecord = z.infer<typeof recordSchema>;

const fileSchema = z.object({
  version: z.literal(1).describe("Format of this file"),
  workers: z.array(recordSchema).describe("One record per folder and backend"),
});

export function localWorkersPath(): string {
  return join(configDir(), LOCAL_WORKERS_FILE);
}

export async function readLocalWorkers(path = localWorkersPath()): Promise<LocalWorkerRecord[]> {
  const read = await readConfigFile(path, "workersFile");
  if (!read.ok) {
    if (read.missing) return [];
    throw new ConfigError(`cannot read ${path}`, { file: path, issues: [{ file: path, path: "(file)", message: read.message, fix: read.fix }] });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(read.text);
  } catch (e) {
    throw new ConfigError(`${path} is not valid JSON`, {
      file: path,
      issues: [{ file: path, path: "(file)", message: (e as Error).message, fix: `Restore it, or delete it to have up create new workers (the old ones stay on the backend: admin revoke them).` }],
    });
  }
  const r = fileSchema.safeParse(raw);
  if (!r.success) {
    throw new ConfigError(`${path} has problems`, {
      file: path,
      issues: r.error.issues.map((i) => ({ file: path, path: i.path.join(".") || "(file)", message: i.message, fix: "This file is written by `up`: restore it or delete it." })),
    });
  }
  for (const w of r.data.workers) registerSecret(w.token.split(":secret_")[1]!);
  return r.data.workers;
}

/**
 * The folders of every worker `up` made on this machine, whatever `up` runs it now: each
 * agent's sandbox hides them (another `up`'s workers are other workers too). Read at each agent
 * start, so a folder a later `up` adds counts; a missing or damaged file hides nothing more
 * (`up` itself stops on a damaged one, naming it).
 */
export function localWorkerFolders(path: string): string[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return [];
  }
  const r = fileSchema.safeParse(raw);
  return r.success ? [...new Set(r.data.workers.map((w) => w.folder))] : [];
}

export function findLocalWorker(records: LocalWorkerRecord[], backend: string, folder: string): LocalWorkerRecord | undefined {
  return records.find((w) => w.backend === backend && w.folder === folder);
}

/**
 * Records (or replaces) the worker of one folder. Re-read just before writing so a record a
 * concurrent `up` wrote for another folder is kept.
 */
export async function saveLocalWorker(record: LocalWorkerRecord, path = localWorkersPath()): Promise<void> {
  const others = (await readLocalWorkers(path)).filter((w) => !(w.backend === record.backend && w.folder === record.folder));
  writeSecureFile(path, `${JSON.stringify({ version: 1, workers: [...others, record] }, null, 2)}\n`);
}
