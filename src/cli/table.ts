// Plain aligned tables for stdout. Widths are measured on the uncolored text so colored
// cells still line up.

const ANSI = /\x1b\[[0-9;]*m/g;
const visible = (s: string) => s.replace(ANSI, "").length;

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
