// What an interactive chat prints, in one place, so it knows where the cursor is: whether a
// line is half written (the next notice starts on a fresh line), and whether the last line is
// one it may rewrite in place (a tool call that went from running to done). Everything the agent
// or the backend wrote passes through safeText/safeLine before it gets here.
import type { Palette } from "../../util/colors.ts";
import { redact } from "../../util/redact.ts";

/** Sequences we write ourselves: up one line, to its start, erase it. */
const REWRITE_LAST_LINE = "\x1b[1A\r\x1b[2K";

export type Screen = ReturnType<typeof createScreen>;

export type ScreenOptions = {
  /** The terminal's width, when known. */
  columns: () => number | undefined;
  /** Whether the terminal takes cursor movements (not TERM=dumb). */
  rewrite: boolean;
};

export function createScreen(write: (text: string) => boolean, palette: Palette, opts: ScreenOptions) {
  let atLineStart = true;
  /** The key of the last full line when nothing was written after it. */
  let lastKey: string | undefined;
  const screen = {
    palette,
    /**
     * Plain text cut to the terminal's width, so a line never wraps and rewriting "one line up"
     * is exact. Applied before colors are added (they have no width).
     */
    fit(text: string, reserve = 0): string {
      const width = opts.columns();
      const room = width ? width - 1 - reserve : Infinity;
      return text.length > room ? `${text.slice(0, Math.max(0, room - 1))}…` : text;
    },
    /** Streamed text (no newline added). */
    write(text: string): boolean {
      if (text === "") return true;
      lastKey = undefined;
      atLineStart = text.endsWith("\n");
      return write(text);
    },
    /** A whole line, on a line of its own; `key` lets replace() rewrite it while it is the last. */
    line(text: string, key?: string): boolean {
      const lead = atLineStart ? "" : "\n";
      atLineStart = true;
      lastKey = key;
      return write(`${lead}${text}\n`);
    },
    /** Rewrites the line printed with `key` when it is still the last one; else prints a new line. */
    replace(key: string, text: string): boolean {
      if (lastKey !== key || !opts.rewrite || !opts.columns()) return screen.line(text, key);
      return write(`${REWRITE_LAST_LINE}${text}\n`);
    },
    /**
     * A notice of ours (an error, a note from chat-follow), masked for secrets as src/index.ts
     * masks what it prints on stderr.
     */
    notice(text: string): boolean {
      return screen.line(redact(text));
    },
    /** Ends a half-written line. */
    endLine(): boolean {
      if (atLineStart) return true;
      atLineStart = true;
      lastKey = undefined;
      return write("\n");
    },
  };
  return screen;
}
