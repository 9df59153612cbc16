// The worker token never leaves `dev`: not in its own output (debug logs included), not in
// the environment or arguments of the OpenCode it starts, not in what OpenCode's shell tools
// see. The token is given both ways a user would (.env and WORKER_TOKEN), plus an admin key
// that happens to be in the environment.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startWorld, type World } from "../support/e2e.ts";
import { TOOL_FINAL_ANSWER } from "../support/stub-model.ts";
import { childrenOf, opencodePid, procCmdline, procEnviron, startDev, stopAll, waitForText, waitGone } from "./dev-support.ts";

let world: World;

beforeAll(async () => {
  world = await startWorld({ stub: { slowChunks: 12, slowChunkDelayMs: 250 } });
});
afterAll(async () => {
  await stopAll();
  await world?.stop();
});

/** Every process in the tree under `pid`, itself included. */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]!));
  return out;
}

describe("dev keeps its secrets", () => {
  test("no token, secret or admin key in dev's output, OpenCode's environment and argv, or its tools' environment", async () => {
    const w = await world.addWorker({ approve: true });
    const secret = w.token.split(":secret_")[1]!;
    const adminKey = world.backend.adminKey;
    expect(secret.length).toBeGreaterThan(10);
    const cwd = world.project();
    writeFileSync(join(cwd, ".env"), `WORKER_TOKEN=${w.token}\nCONVEX_URL=${world.backend.url}\n`, { mode: 0o600 });
    const dev = startDev("binary", world, {
      cwd,
      token: w.token,
      env: { CONVEX_ADMIN_KEY: adminKey },
      args: ["--log-level", "debug"],
    });
    await dev.waitFor(/\bonline\b/, { stream: "stderr" });

    const { sessionId } = await world.admin.createSession(w.workerId, "secrets");
    const envFile = join(cwd, "tool-env.txt");
    const tool = await world.admin.send(sessionId, `TOOLCMD: env > ${envFile}`);
    expect(await world.waitForMessage(tool.messageId)).toMatchObject({ status: "completed", text: TOOL_FINAL_ANSWER });

    // While an answer runs: OpenCode's process tree, as the kernel shows it.
    const slow = await world.admin.send(sessionId, "SLOW while we look");
    await waitForText(world, slow.messageId);
    const pid = await opencodePid(dev);
    const procs = tree(pid);
    let password = "";
    for (const p of procs) {
      let env: string[];
      let argv: string[];
      try {
        env = procEnviron(p);
        argv = procCmdline(p);
      } catch {
        continue; // exited meanwhile
      }
      const text = [...env, ...argv].join("\n");
      expect(text).not.toContain(secret);
      expect(text).not.toContain(w.token);
      expect(text).not.toContain(adminKey);
      expect(env.some((e) => e.startsWith("WORKER_TOKEN="))).toBe(false);
      expect(env.some((e) => e.startsWith("CONVEX_ADMIN_KEY="))).toBe(false);
      if (p === pid) password = env.find((e) => e.startsWith("OPENCODE_SERVER_PASSWORD="))?.split("=")[1] ?? "";
    }
    // OpenCode runs with a password of its own, which is not logged either.
    expect(password.length).toBeGreaterThan(16);

    // What a shell tool of OpenCode saw.
    const toolEnv = readFileSync(envFile, "utf8");
    expect(toolEnv).toContain("PATH=");
    expect(toolEnv).not.toContain(secret);
    expect(toolEnv).not.toContain(adminKey);
    expect(toolEnv).not.toContain("WORKER_TOKEN");

    await world.waitForMessage(slow.messageId);
    dev.kill("SIGTERM");
    expect((await dev.exited).code).toBe(0);
    expect(await waitGone(pid)).toBe(true);
    // The admin key was dropped from dev's environment at start, with a warning saying so (issue 8, item 21).
    expect(dev.stderr).toContain("CONVEX_ADMIN_KEY is set in this worker's environment: removed it");
    // Debug logs are on, so there was plenty of output to leak into.
    expect(dev.stderr).toMatch(/OpenCode started pid=/);
    for (const out of [dev.stdout, dev.stderr]) {
      expect(out).not.toContain(secret);
      expect(out).not.toContain(adminKey);
      expect(out).not.toContain(password);
    }
  }, 120_000);
});
