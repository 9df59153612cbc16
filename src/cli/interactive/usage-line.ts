// The line under an answer: its tokens and cost, added up over the assistant messages of the
// turn (a tool loop makes several). `message` usage already adds up its steps, so steps count
// only when no message total came (an answer cancelled mid-step).
export type UsageEvent = {
  scope: "step" | "message";
  tokens: { input: number; output: number; reasoning: number; cacheRead: number; cacheWrite: number };
  cost: number;
};

const n = (x: number) => x.toLocaleString("en-US");

export function usageLine(events: UsageEvent[]): string {
  const messages = events.filter((e) => e.scope === "message");
  const counted = messages.length > 0 ? messages : events;
  const sum = { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0, cost: 0 };
  for (const e of counted) {
    for (const k of ["input", "output", "reasoning", "cacheRead", "cacheWrite"] as const) sum[k] += e.tokens[k];
    sum.cost += e.cost;
  }
  const parts = [`${n(sum.input)} in`, `${n(sum.output)} out`];
  if (sum.reasoning > 0) parts.push(`${n(sum.reasoning)} reasoning`);
  if (sum.cacheRead + sum.cacheWrite > 0) parts.push(`cache ${n(sum.cacheRead)} read / ${n(sum.cacheWrite)} write`);
  // An answer often costs cents or less: enough digits to tell answers apart.
  parts.push(sum.cost === 0 ? "$0" : `$${sum.cost.toFixed(sum.cost < 1 ? 4 : 2)}`);
  return `tokens: ${parts.join(" · ")}`;
}
