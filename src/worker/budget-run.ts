// Running a prompt under the turn's spend limits (budget.ts says what pausing means): the gate
// notes a crossed limit when a step's usage is counted and pauses the turn as soon as it shows
// it goes on: its model call ended asking for tools, or anything new streams; the runner then
// asks the person and resumes with CONTINUE_PROMPT or ends the turn.
import type { TurnRequest, TurnResult } from "../agent/index.ts";
import type { PartUpdate } from "../backend/api.ts";
import type { TurnUsage } from "./budget-usage.ts";
import { CONTINUE_PROMPT, type TurnBudget } from "./budget.ts";
import { unlessStopped } from "../util/unless-stopped.ts";

export type BudgetGate = {
  /** A step's usage was counted: note whether a limit is now crossed. */
  onUsage(): void;
  /** A model call ended; `more`: the turn goes on with another (it asked for tools). Pauses then if a limit was crossed. */
  onCallEnded(more: boolean): void;
  /** The turn goes on (text, a tool, a file, todos): pause it if a limit was crossed. */
  onProgress(): void;
  /** Aborted to pause the current run. */
  readonly signal: AbortSignal;
  /** A new run starts (after a "continue"). */
  rearm(): void;
};

export function budgetGate(budget: TurnBudget): BudgetGate {
  let pause = new AbortController();
  let due = false;
  const onProgress = () => {
    if (due && !pause.signal.aborted) pause.abort();
  };
  return {
    onUsage() {
      if (!budget.off && !due && budget.crossed()) due = true;
    },
    onCallEnded(more) {
      if (more) onProgress();
    },
    onProgress,
    get signal() {
      return pause.signal;
    },
    rearm() {
      pause = new AbortController();
      due = false;
    },
  };
}

/**
 * The turn's output on its way to the relay, metered: each step's usage is counted into the
 * worker's totals and the gate learns of every sign of progress. What the relay gets is what
 * the backend stores (a message usage's `more` is the gate's alone).
 */
export function meteredStream(
  gate: BudgetGate,
  usage: TurnUsage,
  to: { onText: TurnRequest["onText"]; onPart: (p: Exclude<PartUpdate, { kind: "text" }>) => void },
): Pick<TurnRequest, "onText" | "onPart"> {
  return {
    onText(delta, partId) {
      gate.onProgress();
      to.onText(delta, partId);
    },
    onPart(u) {
      if (u.kind !== "usage") {
        gate.onProgress();
        return to.onPart(u);
      }
      const { more, ...part } = u;
      if (u.usage.scope === "step") {
        usage.record(u.key, u.usage);
        gate.onUsage();
      } else gate.onCallEnded(more === true);
      to.onPart(part);
    },
  };
}

/**
 * Runs the prompt, and after each pause asks the person: continue → the same session goes on
 * with CONTINUE_PROMPT; reject or no answer → `failed` with the reason; the turn stopped meanwhile
 * → `cancelled` (the caller tells cancel from interrupt). A limit no longer crossed by the time
 * of the pause (the UTC day turned) resumes without asking.
 */
export async function runWithinBudget(o: {
  budget: TurnBudget;
  gate: BudgetGate;
  prompt: string;
  stop: AbortSignal;
  run: (prompt: string, signal: AbortSignal) => Promise<TurnResult>;
}): Promise<TurnResult> {
  const ask = async (): Promise<TurnResult | null> => {
    const crossing = o.budget.crossed();
    if (!crossing) return null;
    const d = await unlessStopped(o.budget.ask(crossing), o.stop, { continue: false, reason: "stopped" } as const);
    if (o.stop.aborted) return { outcome: "cancelled" };
    return d.continue ? null : { outcome: "failed", reason: d.reason };
  };
  // Over the daily limit before this turn cost anything: ask before running it.
  if (!o.budget.off) {
    const ended = await ask();
    if (ended) return ended;
  }
  for (let prompt = o.prompt; ; prompt = CONTINUE_PROMPT) {
    o.gate.rearm();
    const r = await o.run(prompt, AbortSignal.any([o.stop, o.gate.signal]));
    // Not paused by the gate (or finished anyway): this is how the turn ended.
    if (!o.gate.signal.aborted || o.stop.aborted || r.outcome !== "cancelled") return r;
    const ended = await ask();
    if (ended) return ended;
  }
}
