// A scripted stand-in for OpenCode's server, so the worker's lifecycle can be driven in-process
// without a model: the prompt says what the "agent" does.
//   "echo: X"  → answers X in two pieces, completed
//   "hold"     → answers "working", then waits until the test releases it (completed) or the
//                turn is aborted (cancelled)
//   "fail"     → failed with a reason
import type { AgentServer, StartAgent, TurnResult } from "../../src/worker/agent-types.ts";

export type ScriptedAgent = {
  start: StartAgent;
  /** Turns currently inside the agent. */
  readonly running: number;
  /** Let every held turn complete. */
  release(): void;
  /** Resolves when `n` turns are inside the agent. */
  untilRunning(n: number): Promise<void>;
  readonly starts: number;
};

export function scriptedAgent(): ScriptedAgent {
  let running = 0;
  let starts = 0;
  let sessions = 0;
  const held = new Set<() => void>();
  const watchers = new Set<() => void>();
  const changed = () => {
    for (const w of [...watchers]) w();
  };
  const server = (directory: string): AgentServer => ({
    pid: 0,
    url: "http://127.0.0.1:9",
    directory,
    listModels: async () => [{ providerId: "scripted", modelId: "m", name: "Scripted" }],
    createSession: async () => `ses_scripted${++sessions}`,
    hasSession: async () => false,
    activeTurns: () => running,
    exited: new Promise(() => {}),
    stop: async () => {},
    // It never asks a person, so no answer is ever for it.
    answer: async () => "unknown" as const,
    async runPrompt(t): Promise<TurnResult> {
      running++;
      changed();
      try {
        if (t.prompt.startsWith("echo: ")) {
          const text = t.prompt.slice(6);
          t.onText(text.slice(0, 2), "part-1");
          t.onText(text.slice(2), "part-1");
          return { outcome: "completed" };
        }
        if (t.prompt === "fail") return { outcome: "failed", reason: "scripted failure" };
        t.onText("working", "part-1");
        return await new Promise<TurnResult>((res) => {
          const done = () => {
            held.delete(done);
            res({ outcome: "completed" });
          };
          held.add(done);
          t.signal.addEventListener("abort", () => {
            held.delete(done);
            res({ outcome: "cancelled" });
          }, { once: true });
        });
      } finally {
        running--;
        changed();
      }
    },
  });
  return {
    start: async (o) => {
      starts++;
      return server(o.directory);
    },
    get running() {
      return running;
    },
    get starts() {
      return starts;
    },
    release() {
      for (const h of [...held]) h();
    },
    untilRunning(n) {
      return new Promise((res) => {
        const check = () => {
          if (running < n) return;
          watchers.delete(check);
          res();
        };
        watchers.add(check);
        check();
      });
    },
  };
}
