// The bench's result table: one row per measure, with its anchor, the ratio against it where
// the target is a ratio, the target itself and PASS/FAIL (or "info" for numbers without one).
export type Row = { measure: string; value: string; anchor?: string; ratio?: number; target?: string; pass?: boolean };

const fmtRatio = (r: number | undefined) => (r === undefined ? "" : `${r.toFixed(2)}×`);

export function printTable(rows: Row[]): void {
  const cells = rows.map((r) => [r.measure, r.value, r.anchor ?? "", fmtRatio(r.ratio), r.target ?? "", r.pass === undefined ? "info" : r.pass ? "PASS" : "FAIL"]);
  const head = ["measure", "value", "anchor", "ratio", "target", ""];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i]!)).join("  ").trimEnd();
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const c of cells) console.log(line(c));
  const failed = rows.filter((r) => r.pass === false).length;
  console.log(failed === 0 ? "\nall targets met" : `\n${failed} target(s) not met`);
}

export const ms = (x: number, d = 0) => `${x.toFixed(d)} ms`;
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
