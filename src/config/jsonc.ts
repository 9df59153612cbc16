// JSONC (comments, trailing commas) through jsonc-parser, with syntax errors turned into
// `file:line:column: what is wrong`.
// The ESM build, explicitly: the package's "main" is a UMD build whose lazy `require("./impl/…")`
// calls a bundler cannot follow, so the Node bundle would fail at run time.
import { createScanner, parse, printParseErrorCode, type ParseError } from "jsonc-parser/lib/esm/main.js";
import { ConfigError, type ConfigIssue } from "../util/errors.ts";

const WORDS: Record<string, { message: string; fix?: string }> = {
  InvalidSymbol: { message: "unexpected character", fix: "Strings and keys need double quotes; remove stray characters." },
  InvalidNumberFormat: { message: "invalid number" },
  PropertyNameExpected: { message: "expected a key in double quotes", fix: 'Keys need double quotes: "token": "…".' },
  ValueExpected: { message: "expected a value" },
  ColonExpected: { message: 'expected ":" after the key' },
  CommaExpected: { message: "expected a comma", fix: "A comma is probably missing at the end of the previous entry." },
  CloseBraceExpected: { message: 'expected "}" to close the object', fix: 'Check that every "{" has a matching "}" and entries are separated by commas.' },
  CloseBracketExpected: { message: 'expected "]" to close the list', fix: 'Check that every "[" has a matching "]" and entries are separated by commas.' },
  EndOfFileExpected: { message: "unexpected text after the end of the JSON value", fix: "The file must hold exactly one object { … }." },
  InvalidCommentToken: { message: "invalid comment" },
  UnexpectedEndOfComment: { message: "unterminated /* comment", fix: "Close it with */." },
  UnexpectedEndOfString: { message: "unterminated string", fix: 'Close the string with a double quote " on the same line.' },
  UnexpectedEndOfNumber: { message: "unterminated number" },
  InvalidUnicode: { message: "invalid \\u escape in a string" },
  InvalidEscapeCharacter: { message: "invalid escape in a string", fix: 'Inside strings write a backslash as "\\\\" (Windows paths: "C:\\\\work" or "C:/work").' },
  InvalidCharacter: { message: "control character (such as a tab or newline) inside a string" },
};

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Deeper than any config needs, far below what a recursive parser survives: jsonc-parser
 * recurses per level, and 100k `[` overflowed the stack.
 */
export const MAX_JSON_DEPTH = 64;

/** A key written twice in one object; the last one wins, as in JSON.parse. */
export type DuplicateKey = { key: string; path: PropertyKey[]; line: number; column: number; firstLine: number; firstColumn: number };

const MAX_DUPLICATES_REPORTED = 20;

type Frame = { path: PropertyKey[]; keys: Map<string, number>; expectKey: boolean; key?: string } | { path: PropertyKey[]; index: number };

// jsonc-parser's SyntaxKind is a const enum, which isolated modules cannot import.
const TOKEN = { openBrace: 1, closeBrace: 2, openBracket: 3, closeBracket: 4, comma: 5, string: 10, eof: 17 } as const;

/**
 * One pass with jsonc-parser's scanner (a loop, not recursion) before the real parse: the
 * first bracket that nests too deep, and the keys written twice in one object.
 */
export function scanJsonc(text: string): { tooDeepAt?: number; duplicates: DuplicateKey[] } {
  const scanner = createScanner(text, true);
  const stack: Frame[] = [];
  const duplicates: DuplicateKey[] = [];
  const childPath = (): PropertyKey[] => {
    const top = stack[stack.length - 1];
    if (!top) return [];
    if ("index" in top) return [...top.path, top.index];
    return top.key === undefined ? top.path : [...top.path, top.key];
  };
  for (let t = scanner.scan(); t !== TOKEN.eof; t = scanner.scan()) {
    const top = stack[stack.length - 1];
    if (t === TOKEN.openBrace || t === TOKEN.openBracket) {
      if (stack.length >= MAX_JSON_DEPTH) return { tooDeepAt: scanner.getTokenOffset(), duplicates };
      const path = childPath();
      stack.push(t === TOKEN.openBrace ? { path, keys: new Map(), expectKey: true } : { path, index: 0 });
    } else if (t === TOKEN.closeBrace || t === TOKEN.closeBracket) {
      stack.pop();
    } else if (t === TOKEN.comma && top) {
      if ("index" in top) top.index++;
      else top.expectKey = true;
    } else if (t === TOKEN.string && top && !("index" in top) && top.expectKey) {
      const key = scanner.getTokenValue();
      const offset = scanner.getTokenOffset();
      const first = top.keys.get(key);
      if (first !== undefined && duplicates.length < MAX_DUPLICATES_REPORTED) {
        const at = lineColumn(text, offset);
        const was = lineColumn(text, first);
        duplicates.push({ key, path: [...top.path, key], line: at.line, column: at.column, firstLine: was.line, firstColumn: was.column });
      }
      top.keys.set(key, offset);
      top.key = key;
      top.expectKey = false;
    }
  }
  return { duplicates };
}

function tooDeep(text: string, file: string, offset: number): ConfigError {
  const { line, column } = lineColumn(text, offset);
  const issue: ConfigIssue = {
    file,
    path: `${line}:${column}`,
    message: `lists and objects are nested more than ${MAX_JSON_DEPTH} levels deep`,
    fix: 'A config needs only a few levels ({"workers": [{ … }]}); check that every "[" and "{" is closed where you meant.',
  };
  return new ConfigError(`syntax error in ${file}`, { file, issues: [issue] });
}

/**
 * The value as far as it parses, syntax errors ignored. Only nesting too deep to parse at all
 * throws, as the usual syntax error.
 */
export function parseJsoncLenient(text: string, file: string): unknown {
  const { tooDeepAt } = scanJsonc(text);
  if (tooDeepAt !== undefined) throw tooDeep(text, file, tooDeepAt);
  return parse(text, [], { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true });
}

/** Parses JSONC text or throws a ConfigError pointing at `file:line:column`. */
export function parseJsonc(text: string, file: string): unknown {
  return parseJsoncDocument(text, file).value;
}

/** parseJsonc, plus the keys written twice (the caller decides how to report them). */
export function parseJsoncDocument(text: string, file: string): { value: unknown; duplicates: DuplicateKey[] } {
  const scan = scanJsonc(text);
  if (scan.tooDeepAt !== undefined) throw tooDeep(text, file, scan.tooDeepAt);
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true });
  if (errors.length === 0 && value === undefined) {
    throw new ConfigError(`${file} is empty`, {
      file,
      issues: [{ file, path: "", message: "the file holds no JSON value", fix: 'Write an object such as {"workers": [ … ]}; see docs/configuration.md.' }],
    });
  }
  if (errors.length === 0) return { value, duplicates: scan.duplicates };
  // jsonc-parser recovers and keeps going, so later errors are mostly echoes of the first.
  const first = errors[0]!;
  const { line, column } = lineColumn(text, first.offset);
  const words = WORDS[printParseErrorCode(first.error)] ?? { message: "syntax error" };
  const issue: ConfigIssue = { file, path: `${line}:${column}`, message: words.message, ...(words.fix ? { fix: words.fix } : {}) };
  throw new ConfigError(`syntax error in ${file}`, { file, issues: [issue] });
}
