// What the sandbox costs: OpenCode start-up (spawn → serving, event stream connected) and a
// warm answer (second prompt in a session), without and with bubblewrap. One run each,
// printed as ratios to the unsandboxed run.
//   bun bench/sandbox.ts
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAgent } from "../src/agent/index.ts";
import { detectSandbox, type SandboxRequest } from "../src/agent/sandbox/index.ts";
import { silentLogger } from "../src/util/log.ts";
import { opencodeTestEnv } from "../test/support/opencode-env.ts";
import { startStubModel } from "../test/support/stub-model.ts";

if (!detectSandbox().ok) throw new Error(`no sandbox here: ${JSON.stringify(detectSandbox())}`);
const root = mkdtempSync(join(tmpdir(), "oco-bench-sandbox-"));
const stub = await startStubModel();
const env = { ...process.env, ...opencodeTestEnv(stub.url, { root: join(root, "home") }) };
const directory = join(root, "project");
mkdirSync(directory);

async function measure(sandbox: SandboxRequest | undefined) {
  const t0 = performance.now();
  const agent = await startAgent({ directory, opencodePath: null, log: silentLogger, env, startupTimeoutMs: 120_000, sandbox });
  const startMs = performance.now() - t0;
  const session = await agent.createSession("bench");
  const ask = async () => {
    const t = performance.now();
    const r = await agent.runPrompt({ sessionId: session, prompt: "hello", onText: () => {}, signal: new AbortController().signal, inactivityTimeoutMs: 60_000 });
    if (r.outcome !== "completed") throw new Error(JSON.stringify(r));
    return performance.now() - t;
  };
  const firstMs = await ask();
  const warmMs = await ask();
  await agent.stop();
  return { startMs, firstMs, warmMs };
}

const request = (mode: "on" | "off"): SandboxRequest => ({ worker: "bench", settings: { mode, network: true, hide: [], writable: [] }, secrets: [] });
const off = await measure(request("off"));
const on = await measure(request("on"));
await stub.stop();
rmSync(root, { recursive: true, force: true });

const row = (what: string, a: number, b: number) => console.log(`${what.padEnd(22)} off ${a.toFixed(0).padStart(6)} ms   on ${b.toFixed(0).padStart(6)} ms   on/off ${(b / a).toFixed(2)}`);
row("start-up", off.startMs, on.startMs);
row("first answer", off.firstMs, on.firstMs);
row("warm answer", off.warmMs, on.warmMs);
