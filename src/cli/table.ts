// Plain aligned tables for stdout. Widths are measured as a terminal draws the text: colors
// take no room, CJK and emoji take two columns, combining marks none.

import { safeLine } from "../util/terminal-text.ts";

const ANSI = /\x1b\[[0-9;]*m/g;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}]$/u;
const EMOJI = /^\p{Extended_Pictographic}$/u;

// East Asian Wide and Fullwidth blocks (Unicode's EastAsianWidth.txt, W and F, by block).
const WIDE: [number, number][] = [
  [0x1100, 0x115f], [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff],
  [0xa000, 0xa4cf], [0xa960, 0xa97f], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f], [0xff00, 0xff60], [0xffe0, 0xffe6], [0x16fe0, 0x18aff], [0x1b000, 0x1b2ff],
  [0x1f200, 0x1f2ff], [0x20000, 0x3fffd],
];

function charWidth(ch: string): number {
  if (ZERO_WIDTH.test(ch)) return 0;
  const cp = ch.codePointAt(0)!;
  if (WIDE.some(([lo, hi]) => cp >= lo && cp <= hi)) return 2;
  // Pictographs below U+1F000 (©, ™, ☺…) are drawn narrow unless followed by U+FE0F.
  return cp >= 0x1f000 && EMOJI.test(ch) ? 2 : 1;
}

/** Columns the text takes on a terminal. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s.replace(ANSI, "")) w += charWidth(ch);
  return w;
}

const visible = displayWidth;

export function renderTable(header: string[], rows: string[][], opts: { headerStyle?: (s: string) => string } = {}): string {
  const widths = header.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ""))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - visible(c))))
      .join("  ")
      .trimEnd();
  const style = opts.headerStyle ?? ((s: string) => s);
  return [style(line(header)), ...rows.map(line)].join("\n");
}

/** "5s", "3m", "2h", "4d" — compact ages for tables. */
export function formatAge(ms: number | null): string {
  if (ms === null) return "never";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

/** A worker's tags after its name, "api [api,linux]", in tables (routing: `chat --tag`). */
export function tagSuffix(tags: readonly string[] | undefined): string {
  return tags && tags.length > 0 ? ` [${safeLine(tags.join(","))}]` : "";
}
