// Text we did not write (a worker's registration, an answer, a backend's message) reaches a
// person's terminal only through here: control characters could move the cursor, rewrite
// earlier lines, change the window title or hide text (escape sequences, NUL, bidi overrides).
// Each one is shown as a visible escape instead, so nothing is silently dropped.

// C0 controls, DEL and C1 controls (0x80–0x9f: a lone 0x9b is CSI on some terminals), plus the
// Unicode bidi embeddings, overrides and isolates that reorder what a line appears to say.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_KEEP_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function visible(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** One line of foreign text (a name, a folder, a reason): every control character made visible. */
export function safeLine(text: string): string {
  return text.replace(UNSAFE, visible);
}

/**
 * Foreign multi-line text (an answer): newlines and tabs are kept, every other control
 * character made visible. A lone carriage return would let text overwrite its own line, so
 * only the CRLF pair is kept (as a newline).
 */
export function safeText(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(UNSAFE_KEEP_LINES, visible);
}

/**
 * JSON for a terminal or a pipe: JSON.stringify already escapes C0 controls; DEL, the C1
 * controls and the bidi controls are escaped too. Still the same JSON value.
 */
export function safeJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
