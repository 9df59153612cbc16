// Shared setup for the agent tests: a stub model, an isolated offline OpenCode env, a project
// folder, and a logger whose lines the test can inspect.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startAgent, type AgentServer, type StartAgentOptions, type TurnResult, type AgentPart } from "../../src/agent/index.ts";
import { createLogger, type Logger } from "../../src/util/log.ts";
import { opencodeTestEnv } from "../support/opencode-env.ts";
import { startStubModel, type StubModel, type StubModelOptions } from "../support/stub-model.ts";
import { tempDir } from "../support/tmp.ts";
import { createWaiters } from "../support/waiters.ts";

export type Harness = {
  stub: StubModel;
  env: NodeJS.ProcessEnv;
  directory: string;
  log: Logger;
  lines: string[];
  /** Resolves once `count` log lines contain `text`. */
  waitForLines(text: string, count: number, timeoutMs?: number): Promise<void>;
  start(extra?: Partial<StartAgentOptions>): Promise<AgentServer>;
  close(): Promise<void>;
};

export async function harness(stubOpts: StubModelOptions = {}): Promise<Harness> {
  const stub = await startStubModel(stubOpts);
  const env = { ...process.env, ...opencodeTestEnv(stub.url) };
  const directory = tempDir("project-");
  mkdirSync(join(directory, "src"), { recursive: true });
  const lines: string[] = [];
  const waiters = createWaiters();
  const log = createLogger({
    level: "debug",
    sink: (l) => {
      lines.push(l);
      waiters.notify();
    },
    timestamps: false,
  });
  const agents: AgentServer[] = [];
  return {
    stub,
    env,
    directory,
    log,
    lines,
    waitForLines(text, count, timeoutMs = 30_000) {
      const seen = () => lines.filter((l) => l.includes(text)).length >= count || undefined;
      return waiters.until(seen, timeoutMs, () => new Error(`timed out waiting for ${count} log lines with "${text}"`)).then(() => {});
    },
    async start(extra = {}) {
      const a = await startAgent({ directory, opencodePath: null, log, env, startupTimeoutMs: 60_000, ...extra });
      agents.push(a);
      return a;
    },
    async close() {
      await Promise.all(agents.map((a) => a.stop()));
      await stub.stop();
    },
  };
}

export type TurnRun = {
  done: Promise<TurnResult>;
  text(): string;
  /** The turn's other part changes, as relayed. */
  parts(): AgentPart[];
  /** Resolves once some answer text arrived. */
  firstText: Promise<void>;
  cancel(): void;
  activity(): number;
};

export function turn(agent: AgentServer, sessionId: string, prompt: string, inactivityTimeoutMs = 60_000): TurnRun {
  let text = "";
  const parts: AgentPart[] = [];
  let activity = 0;
  let gotText!: () => void;
  const firstText = new Promise<void>((r) => (gotText = r));
  const ac = new AbortController();
  const done = agent.runPrompt({
    sessionId,
    prompt,
    onText: (d) => {
      text += d;
      gotText();
    },
    onPart: (u) => void parts.push(u),
    onActivity: () => activity++,
    signal: ac.signal,
    inactivityTimeoutMs,
  });
  return { done, text: () => text, parts: () => parts, firstText, cancel: () => ac.abort(), activity: () => activity };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms))]);
}
