// The one palette. Everything colored goes through here so NO_COLOR / non-TTY is honoured once.
import pc from "picocolors";

export function colorEnabled(stream: { isTTY?: boolean } = process.stderr): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0") return true;
  return Boolean(stream.isTTY) && process.env.TERM !== "dumb";
}

export type Palette = ReturnType<typeof makePalette>;

export function makePalette(enabled: boolean) {
  const c = pc.createColors(enabled);
  return {
    enabled,
    error: c.red,
    warn: c.yellow,
    ok: c.green,
    info: c.cyan,
    dim: c.dim,
    bold: c.bold,
    /** Stable per-name colors so each worker's log prefix is recognisable. */
    name(name: string): string {
      const choices = [c.cyan, c.magenta, c.blue, c.green, c.yellow];
      let h = 0;
      for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
      return choices[h % choices.length]!(name);
    },
  };
}

/** Palette for stderr (messages and logs). */
export const stderrColors = (): Palette => makePalette(colorEnabled(process.stderr));
/** Palette for stdout (tables). */
export const stdoutColors = (): Palette => makePalette(colorEnabled(process.stdout));
