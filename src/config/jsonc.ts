// JSONC (comments, trailing commas) through jsonc-parser, with syntax errors turned into
// `file:line:column: what is wrong`.
// The ESM build, explicitly: the package's "main" is a UMD build whose lazy `require("./impl/…")`
// calls a bundler cannot follow, so the Node bundle would fail at run time.
import { parse, printParseErrorCode, type ParseError } from "jsonc-parser/lib/esm/main.js";
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

/** Parses JSONC text or throws a ConfigError pointing at `file:line:column`. */
export function parseJsonc(text: string, file: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true });
  if (errors.length === 0 && value === undefined) {
    throw new ConfigError(`${file} is empty`, {
      file,
      issues: [{ file, path: "", message: "the file holds no JSON value", fix: 'Write an object such as {"workers": [ … ]}; see docs/configuration.md.' }],
    });
  }
  if (errors.length === 0) return value;
  // jsonc-parser recovers and keeps going, so later errors are mostly echoes of the first.
  const first = errors[0]!;
  const { line, column } = lineColumn(text, first.offset);
  const words = WORDS[printParseErrorCode(first.error)] ?? { message: "syntax error" };
  const issue: ConfigIssue = { file, path: `${line}:${column}`, message: words.message, ...(words.fix ? { fix: words.fix } : {}) };
  throw new ConfigError(`syntax error in ${file}`, { file, issues: [issue] });
}
