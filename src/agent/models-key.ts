// What decides the output of `opencode models` for one worker, as one string: workers whose
// keys are equal get the same listing, so one run can serve them all (models-share.ts).
//
// OpenCode builds its config from (lowest first): its global config folder, OPENCODE_CONFIG,
// every opencode.json/opencode.jsonc from the folder up to the git root, OPENCODE_CONFIG_CONTENT,
// the .opencode folders from the folder up to the git root, ~/.opencode and OPENCODE_CONFIG_DIR
// (their opencode.json* and plugins). Providers also come from auth.json and the environment
// (API keys). The key holds: the executable, the environment the listing runs with, and a
// fingerprint (path + content hash, bounded reads) of each of those files and folders. We look
// up to the filesystem root rather than the git root: a file above the git root that OpenCode
// ignores only splits a key, it never merges two that differ.
import { createHash } from "node:crypto";
import { open, readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { agentEnv } from "./env.ts";
import { isInside, opencodeDirs, SANDBOX_TMP, type SandboxRequest } from "./sandbox/plan.ts";

/** Bytes of one config file read into its hash; config files are a few KB. */
const MAX_HASHED_BYTES = 1024 * 1024;
/** Entries of one plugin folder fingerprinted by name, size and mtime. */
const MAX_FOLDER_ENTRIES = 200;
const CONFIG_NAMES = ["opencode.jsonc", "opencode.json", "config.json"];
const PLUGIN_FOLDERS = ["plugin", "plugins"];
const ABSENT = "absent";

export type ListingKeyInput = {
  directory: string;
  opencodePath: string | null;
  /** The environment before our secrets are removed (as the listing gets it). */
  env: NodeJS.ProcessEnv;
  sandbox?: SandboxRequest;
};

export async function listingKey(o: ListingKeyInput): Promise<string> {
  // The per-run marker and password are fixed here: they vary per run and mean nothing to the
  // listing. The worker's `permission` rules are not in the listing's environment at all.
  const env = agentEnv(o.env, { marker: "-", password: "-" });
  const files = configPlaces(resolve(o.directory), env);
  // A file that is not there is not there for anyone: only those found count, so two folders
  // without config of their own get the same key.
  const found = await Promise.all(files.map(async (p) => [p, await fingerprint(p)] as const));
  const seen = found.filter(([, f]) => f !== ABSENT).map(([p, f]) => `${p}\t${visibility(p, o)}\t${f}`);
  const command = o.opencodePath ?? "opencode";
  const parts = [
    `command\t${command}\t${isAbsolute(command) ? await fingerprint(command, { contents: false }) : ""}`,
    `sandbox\t${o.sandbox?.settings.mode ?? "none"}`,
    ...Object.keys(env)
      .sort()
      .map((k) => `env\t${k}=${env[k]}`),
    ...seen,
  ];
  return createHash("sha256").update(parts.join("\n")).digest("hex");
}

/** Every file or folder OpenCode may read its config, plugins or credentials from, for this folder. */
function configPlaces(directory: string, env: Record<string, string>): string[] {
  const home = env.HOME || homedir();
  const [data, , , config] = opencodeDirs(env);
  const places = [...CONFIG_NAMES.map((n) => join(config!, n)), ...PLUGIN_FOLDERS.map((n) => join(config!, n)), join(data!, "auth.json")];
  for (let d = directory; ; d = dirname(d)) {
    places.push(join(d, "opencode.jsonc"), join(d, "opencode.json"), ...dotOpencode(join(d, ".opencode")));
    if (dirname(d) === d) break;
  }
  places.push(...dotOpencode(join(home, ".opencode")));
  if (env.OPENCODE_CONFIG) places.push(resolve(directory, env.OPENCODE_CONFIG));
  if (env.OPENCODE_CONFIG_DIR) places.push(...dotOpencode(resolve(directory, env.OPENCODE_CONFIG_DIR)));
  return [...new Set(places)];
}

const dotOpencode = (dir: string) => [...CONFIG_NAMES.map((n) => join(dir, n)), ...PLUGIN_FOLDERS.map((n) => join(dir, n))];

/**
 * What decides whether the worker's sandbox lets the listing see a path: the hidden roots
 * (our secrets, `sandbox_hide`, the private /tmp) and the exposed ones (its folder, OpenCode's
 * folders, `sandbox_writable`) that lie on the path or under it. Two workers with the same
 * roots here see the path alike, whatever the sandbox then makes of them.
 */
function visibility(path: string, o: ListingKeyInput): string {
  const s = o.sandbox;
  if (!s || s.settings.mode === "off") return "";
  const dir = resolve(o.directory);
  const hidden = [...s.secrets, ...s.settings.hide, SANDBOX_TMP].map((p) => resolve(p)).filter((p) => p !== dir);
  const exposed = [dir, ...opencodeDirs(o.env), ...s.settings.writable].map((p) => resolve(p));
  const touches = (r: string) => isInside(path, r) || isInside(r, path);
  return [...hidden.filter(touches).map((r) => `-${r}`), ...exposed.filter(touches).map((r) => `+${r}`)].sort().join(",");
}

/** "absent", a file's size and content hash (bounded), or a folder's entries by name, size and time. */
async function fingerprint(path: string, o: { contents: boolean } = { contents: true }): Promise<string> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) {
      const names = (await readdir(path)).sort().slice(0, MAX_FOLDER_ENTRIES);
      const entries = await Promise.all(names.map(async (n) => `${n}:${await stat(join(path, n)).then(brief, () => "gone")}`));
      return `dir[${entries.join(";")}]`;
    }
    return o.contents ? `${st.size}:${await hashHead(path, st.size)}` : brief(st);
  } catch {
    return ABSENT;
  }
}

const brief = (st: { size: number; mtimeMs: number; isDirectory(): boolean }) => `${st.isDirectory() ? "dir" : st.size}@${st.mtimeMs}`;

async function hashHead(path: string, size: number): Promise<string> {
  const file = await open(path, "r");
  try {
    const buf = Buffer.alloc(Math.min(size, MAX_HASHED_BYTES));
    const { bytesRead } = await file.read(buf, 0, buf.length, 0);
    return createHash("sha256").update(buf.subarray(0, bytesRead)).digest("hex");
  } finally {
    await file.close();
  }
}
