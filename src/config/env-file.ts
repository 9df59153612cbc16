// .env files: parsed the way `node --env-file`, util.parseEnv and Bun read them (compared
// case by case in test/config/env-file.test.ts): `#` starts a comment anywhere in an unquoted
// value, `export ` is allowed, single, double and backtick quotes may span lines, only `\n`
// is expanded (inside double quotes), nothing else is. Updated in place so every other line
// of the user's file survives a save, and written only in forms those readers agree on.

export type EnvEntry = {
  key: string;
  value: string;
  /** 0-based first and last line of the entry (a quoted value may span lines). */
  startLine: number;
  endLine: number;
};

export type ParsedEnvFile = {
  /** Last assignment wins, as in dotenv and Bun. */
  values: Map<string, string>;
  entries: EnvEntry[];
  /** Lines that are neither blank, comments nor assignments (reported, otherwise ignored). */
  invalidLines: number[];
};

const ASSIGN = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s?(.*)$/;

export function parseEnvText(text: string): ParsedEnvFile {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const values = new Map<string, string>();
  const entries: EnvEntry[] = [];
  const invalidLines: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const m = ASSIGN.exec(line);
    if (!m) {
      invalidLines.push(i);
      continue;
    }
    const key = m[1]!;
    let rest = m[2]!.trimStart();
    const start = i;
    let value: string;
    const q = rest[0];
    if (q === '"' || q === "'" || q === "`") {
      // Find the closing quote, possibly on a later line.
      let body = rest.slice(1);
      let close = findClose(body, q);
      while (close < 0 && i + 1 < lines.length) {
        i++;
        body += "\n" + lines[i]!;
        close = findClose(body, q);
      }
      if (close < 0) {
        // Unterminated: read it like dotenv does, as the rest of the first line.
        i = start;
        value = rest.trim();
      } else {
        const inner = body.slice(0, close);
        value = q === '"' ? unescapeDouble(inner) : inner;
      }
    } else {
      // Unquoted: a comment starts at the first "#", with or without a space before it.
      const hash = rest.indexOf("#");
      value = (hash >= 0 ? rest.slice(0, hash) : rest).trim();
    }
    values.set(key, value);
    entries.push({ key, value, startLine: start, endLine: i });
  }
  return { values, entries, invalidLines };
}

/** Inside double quotes `\"` does not close the value (Bun, dotenv); it is kept as written. */
function findClose(body: string, q: string): number {
  for (let j = 0; j < body.length; j++) {
    if (q === '"' && body[j] === "\\" && body[j + 1] === '"') {
      j++;
      continue;
    }
    if (body[j] === q) return j;
  }
  return -1;
}

function unescapeDouble(s: string): string {
  return s.replace(/\\n/g, "\n");
}

/** A value no .env reader reads back the same, whatever the quoting (it holds ', " and a newline or backslash). */
export class EnvValueError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`the value of ${key} cannot be written to a .env file so that every reader reads it back unchanged`);
    this.name = "EnvValueError";
    this.key = key;
  }
}

/** `KEY=value`, quoted only when the value needs it, in a form Node, Bun and dotenv read back unchanged. */
export function formatEnvLine(key: string, value: string): string {
  if (/^[A-Za-z0-9_\-.:/@+,=~%]*$/.test(value)) return `${key}=${value}`;
  if (!/['\r\n]/.test(value)) return `${key}='${value}'`;
  if (!/["\\\r]/.test(value)) return `${key}="${value.replace(/\n/g, "\\n")}"`;
  throw new EnvValueError(key);
}

/**
 * Sets `updates` in the text of a .env file: an existing assignment (the last one, which is
 * the one that counts) is replaced where it stands; new keys are appended. Everything else —
 * comments, blank lines, other variables, their order — is kept byte for byte.
 */
export function updateEnvText(text: string, updates: Record<string, string>): string {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text === "" ? [] : text.split(/\r?\n/);
  const hadFinalNewline = lines.length > 0 && lines[lines.length - 1] === "";
  if (hadFinalNewline) lines.pop();
  const { entries } = parseEnvText(lines.join("\n"));
  const lastByKey = new Map<string, EnvEntry>();
  for (const e of entries) lastByKey.set(e.key, e);
  // Replace from the bottom up so earlier line numbers stay valid.
  const replacements = Object.entries(updates)
    .filter(([k]) => lastByKey.has(k))
    .map(([k, v]) => ({ entry: lastByKey.get(k)!, line: formatEnvLine(k, v) }))
    .sort((a, b) => b.entry.startLine - a.entry.startLine);
  for (const { entry, line } of replacements) {
    const keepExport = /^\s*export\s/.test(lines[entry.startLine]!) ? "export " : "";
    lines.splice(entry.startLine, entry.endLine - entry.startLine + 1, keepExport + line);
  }
  for (const [k, v] of Object.entries(updates)) if (!lastByKey.has(k)) lines.push(formatEnvLine(k, v));
  return lines.join(eol) + eol;
}
