// Turning zod's issues into ConfigIssues people can act on: a `workers[1].token` path, a
// message that never quotes a value back (it may be a secret), and a fix.
import type { z } from "zod";
import type { ConfigIssue } from "../util/errors.ts";
import { TOKEN_FORMAT_HELP } from "./token.ts";
import { NUMBER_FIELDS, rangeFix, TOP_LEVEL_KEYS, WORKER_KEYS, type NumberField } from "./workers-schema.ts";

/** `["workers", 1, "token"]` → `workers[1].token` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

const FIELD_FIX: Record<string, string> = {
  workers: 'Add a "workers" list: {"workers": [{"token": "…", "working_directory": "…", "convex_url": "…"}]}',
  token: `Set "token" (or "token_file"). ${TOKEN_FORMAT_HELP}`,
  token_file: 'Set "token_file" to the path of a file that holds the token.',
  working_directory: 'Set "working_directory" to the project folder this worker runs in, e.g. "~/code/my-app".',
  convex_url: 'Set "convex_url" to your Convex deployment URL, e.g. "https://happy-animal-123.convex.cloud".',
  name: 'Use a short name such as "api" or "web-app".',
  opencode_path: 'Set it to the opencode executable, or remove it to use "opencode" from PATH.',
  status_address: 'Use "127.0.0.1:7420" (or another host:port), or "off".',
  ...Object.fromEntries(Object.keys(NUMBER_FIELDS).map((k) => [k, rangeFix(k as NumberField)])),
};

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return "a string";
  if (typeof v === "number") return Number.isInteger(v) ? "a whole number" : "a number";
  return typeof v === "boolean" ? "true/false" : typeof v;
}

const EXPECTED: Record<string, string> = {
  string: "a string in double quotes",
  number: "a number",
  int: "a whole number",
  array: "a list [ … ]",
  object: "an object { … }",
  boolean: "true or false",
};

const normalize = (k: string) => k.toLowerCase().replace(/[^a-z0-9$]/g, "");

const ALIASES: Record<string, string> = {
  dir: "working_directory",
  cwd: "working_directory",
  directory: "working_directory",
  workdir: "working_directory",
  path: "working_directory",
  folder: "working_directory",
  url: "convex_url",
  convex: "convex_url",
  deployment: "convex_url",
  tokenpath: "token_file",
  concurrency: "max_concurrent_sessions",
  opencode: "opencode_path",
  shutdowntimeoutms: "shutdown_timeout",
};

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The known key an unknown key was probably meant to be (`working_dir` → `working_directory`). */
export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  const u = normalize(unknown);
  if (u === "") return undefined;
  const alias = ALIASES[u];
  if (alias && known.includes(alias)) return alias;
  const exact = known.find((k) => normalize(k) === u);
  if (exact) return exact;
  if (u.length >= 3) {
    const prefix = known.find((k) => normalize(k).startsWith(u) || (u.startsWith(normalize(k)) && normalize(k).length >= 4));
    if (prefix) return prefix;
  }
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(u, normalize(k));
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.max(2, Math.floor(u.length / 4)) ? best : undefined;
}

function lastKey(path: readonly PropertyKey[]): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === "string") return path[i] as string;
  return undefined;
}

/** The value at a zod path in the parsed file (zod does not keep inputs in its issues by default). */
function valueAt(root: unknown, path: readonly PropertyKey[]): { present: boolean; value?: unknown } {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== "object" || !Object.prototype.hasOwnProperty.call(cur, p)) return { present: false };
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return { present: true, value: cur };
}

function outOfRange(key: string | undefined, value: number): string {
  const field = key !== undefined && key in NUMBER_FIELDS ? NUMBER_FIELDS[key as NumberField] : undefined;
  if (Number.isNaN(value)) return "is not a number";
  const big = value > 0;
  const limit = field ? (big ? `: must be at most ${field.max}` : `: must be at least ${field.min}`) : "";
  return `is too ${big ? "large" : "small"} to be a usable number${limit}`;
}

/** One zod issue → one or more ConfigIssues (one per unknown key). `root` is the parsed file. */
export function fromZodIssue(issue: z.core.$ZodIssue, file: string | undefined, root: unknown): ConfigIssue[] {
  const path = formatPath(issue.path);
  const key = lastKey(issue.path);
  const fieldFix = key ? FIELD_FIX[key] : undefined;
  const at = (message: string, fix?: string, p = path): ConfigIssue => ({ file, path: p, message, ...(fix ? { fix } : {}) });
  switch (issue.code) {
    case "unrecognized_keys": {
      const inWorker = issue.path.length > 0;
      const known = inWorker ? WORKER_KEYS : TOP_LEVEL_KEYS;
      return issue.keys.map((k) => {
        const guess = suggestKey(k, known);
        const p = formatPath([...issue.path, k]);
        return at(
          `unknown key "${k}"${guess ? ` — did you mean "${guess}"?` : ""}`,
          guess ? `Rename "${k}" to "${guess}".` : `Remove it. Known keys${inWorker ? " for a worker" : ""}: ${known.join(", ")}.`,
          p,
        );
      });
    }
    case "invalid_type": {
      const found = valueAt(root, issue.path);
      if (!found.present) return [at("is required", fieldFix)];
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      // 1e400 parses to Infinity, which zod reports as a wrong type ("a number, not a number").
      if (typeof found.value === "number" && !Number.isFinite(found.value)) return [at(outOfRange(key, found.value), fieldFix)];
      if (issue.path.length === 0) return [at(`the file must hold ${expected} such as {"workers": [ … ]}, not ${typeName(found.value)}`)];
      return [at(`must be ${expected}, not ${typeName(found.value)}`, fieldFix)];
    }
    case "too_small": {
      if (issue.origin === "array") return [at(`needs at least ${issue.minimum} ${key === "workers" ? "worker" : "entry"}`, fieldFix)];
      if (issue.origin === "string") return [at("must not be empty", fieldFix)];
      const cmp = issue.inclusive === false ? "greater than" : "at least";
      return [at(`must be ${cmp} ${issue.minimum}`, fieldFix)];
    }
    case "too_big": {
      const cmp = issue.inclusive === false ? "less than" : "at most";
      return [at(`must be ${cmp} ${issue.maximum}`, fieldFix)];
    }
    case "custom": {
      const fix = typeof issue.params?.fix === "string" ? issue.params.fix : fieldFix;
      return [at(issue.message, fix)];
    }
    case "invalid_format":
      return [at(issue.message, fieldFix)];
    default:
      return [at(issue.message, fieldFix)];
  }
}
