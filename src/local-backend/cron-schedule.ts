// When a cron job of convex/crons.ts (`cronJobs()`) runs next. Every kind is reduced to an
// interval or a five-field cron expression in UTC, the way Convex documents them.

export type CronSchedule =
  | { type: "interval"; seconds?: number; minutes?: number; hours?: number }
  | { type: "hourly"; minuteUTC?: number }
  | { type: "daily"; hourUTC: number; minuteUTC?: number }
  | { type: "weekly"; dayOfWeek: string; hourUTC: number; minuteUTC?: number }
  | { type: "monthly"; day: number; hourUTC: number; minuteUTC?: number }
  | { type: "cron"; cron: string };

/** `id`: the cron's own name in crons.ts; `fn`: the function it runs. */
export type CronSpec = { id: string; fn: string; args: unknown[]; schedule: CronSchedule };

const DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

function expression(s: CronSchedule): string | undefined {
  switch (s.type) {
    case "interval":
      return undefined;
    case "hourly":
      return `${s.minuteUTC ?? 0} * * * *`;
    case "daily":
      return `${s.minuteUTC ?? 0} ${s.hourUTC} * * *`;
    case "weekly":
      return `${s.minuteUTC ?? 0} ${s.hourUTC} * * ${DAYS.indexOf(s.dayOfWeek.toLowerCase())}`;
    case "monthly":
      return `${s.minuteUTC ?? 0} ${s.hourUTC} ${s.day} * *`;
    case "cron":
      return s.cron;
  }
}

function field(text: string, min: number, max: number): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo = min;
    let hi = max;
    if (range !== "*") {
      const [a, b] = range!.split("-");
      lo = Number(a);
      hi = b === undefined ? (stepText === undefined ? lo : max) : Number(b);
    }
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || !Number.isInteger(step) || step < 1 || lo < min || hi > max) {
      throw new Error(`invalid cron field "${text}"`);
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

function nextCronMatch(expr: string, afterMs: number): number {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`invalid cron expression "${expr}": five fields expected`);
  const [minute, hour, dom, month, dow] = [field(parts[0]!, 0, 59), field(parts[1]!, 0, 23), field(parts[2]!, 1, 31), field(parts[3]!, 1, 12), field(parts[4]!, 0, 7)];
  if (dow.has(7)) dow.add(0);
  const domAny = parts[2] === "*";
  const dowAny = parts[4] === "*";
  const t = new Date(Math.floor(afterMs / 60_000) * 60_000 + 60_000);
  // At most a few years of minutes; a day-31-of-February expression ends with an error.
  for (let i = 0; i < 4 * 366 * 24 * 60; i++) {
    const dayOk = domAny && dowAny ? true : domAny ? dow.has(t.getUTCDay()) : dowAny ? dom.has(t.getUTCDate()) : dom.has(t.getUTCDate()) || dow.has(t.getUTCDay());
    if (month.has(t.getUTCMonth() + 1) && dayOk && hour.has(t.getUTCHours()) && minute.has(t.getUTCMinutes())) return t.getTime();
    t.setTime(t.getTime() + 60_000);
  }
  throw new Error(`cron expression "${expr}" never matches`);
}

/** The first run strictly after `afterMs`. */
export function nextRun(s: CronSchedule, afterMs: number): number {
  if (s.type === "interval") {
    const ms = ((s.seconds ?? 0) + (s.minutes ?? 0) * 60 + (s.hours ?? 0) * 3600) * 1000;
    if (!(ms > 0)) throw new Error("a cron interval must be positive");
    return afterMs + ms;
  }
  return nextCronMatch(expression(s)!, afterMs);
}

/** The jobs of a crons module's default export (a `cronJobs()` object). */
export function cronSpecs(mod: Record<string, unknown> | undefined): CronSpec[] {
  const crons = (mod?.default as { crons?: Record<string, { name: string; args: unknown[]; schedule: CronSchedule }> } | undefined)?.crons;
  if (!crons) return [];
  return Object.entries(crons).map(([id, c]) => ({ id, fn: c.name, args: c.args, schedule: c.schedule }));
}
