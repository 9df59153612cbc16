// Permission requests end to end, each through the real CLI: `chat` → backend → `dev` → a real
// OpenCode → the stub model, which makes the agent read the project's `.env.local` (OpenCode asks
// by default before reading *.env and *.env.* files; dev's own .env holds its token, and the
// sandbox hides it from the agent). The person answers with `chat --permissions` or `reply`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import type { World } from "../support/e2e.ts";
import type { Running } from "../support/proc.ts";
import { TOOL_FINAL_ANSWER } from "../support/stub-model.ts";
import { admin, adminEnv, chat, closeDevWorld, startChat, openDevWorld, chatEvents, type ChatEvent } from "./dev-support.ts";

const TEST_TIMEOUT = 120_000;
const SECRET_LINE = "API_KEY=perm-test-value";
const ENV_FILE = ".env.local";

const readEnvPrompt = (cwd: string) => `TOOLJSON:read ${JSON.stringify({ filePath: join(cwd, ENV_FILE) })}`;

/** The request id chat printed on stderr when the request was raised. */
async function requestIdFrom(c: Running): Promise<string> {
  const m = await c.waitFor(/permission request (req_[a-z0-9]+): read /, { stream: "stderr", timeoutMs: 60_000 });
  return m[1]!;
}

const reply = (world: World, args: string[]) => runCli("binary", ["reply", ...args], { env: adminEnv(world), timeoutMs: 30_000 });

describe("permission requests through the CLI (binary)", () => {
  let world: World;
  let dev: Running;
  let workerId: string;
  let cwd: string;

  beforeAll(async () => {
    ({ world, dev, cwd, worker: { workerId } } = await openDevWorld("binary"));
    writeFileSync(join(cwd, ENV_FILE), `${SECRET_LINE}\n`);
  }, 60_000);

  afterAll(() => closeDevWorld({ world, dev }), 30_000);

  test("the agent reads .env.local: --permissions once lets the tool run and the answer completes", async () => {
    const r = await chat("binary", world, ["--worker", workerId, "--new", "--json", "--permissions", "once", readEnvPrompt(cwd)]);
    expect(r.code).toBe(0);
    const evs = chatEvents(r.stdout);
    const perms = evs.filter((e) => e.type === "permission");
    expect(perms.map((e) => e.status)).toEqual(["pending", "answered"]);
    // OpenCode names the file relative to its worktree.
    expect(perms[0]).toMatchObject({ permission: "read" });
    expect(perms[0]!.patterns).toHaveLength(1);
    expect(perms[0]!.patterns[0]).toEndWith(`/${ENV_FILE}`);
    expect(perms[0]!.title).toBe(`read ${perms[0]!.patterns[0]}`);
    expect(perms[1]).toMatchObject({ requestId: perms[0]!.requestId, reply: "once" });
    const tool = evs.filter((e) => e.type === "tool").at(-1)!;
    expect(tool).toMatchObject({ name: "read", status: "completed" });
    expect(tool.output).toContain(SECRET_LINE);
    expect(evs.filter((e) => e.type === "text").map((e) => e.text).join("")).toBe(TOOL_FINAL_ANSWER);
    expect(evs.at(-1)).toMatchObject({ type: "end", status: "completed" });
  }, TEST_TIMEOUT);

  test("chat without --permissions leaves the request for another client; `reply` from a second process answers it", async () => {
    const c = startChat("binary", world, ["--worker", workerId, "--new", readEnvPrompt(cwd)]);
    const id = await requestIdFrom(c);
    expect(c.stderr).toContain(`answer with: opencode-orchestrator reply ${id} once|always|reject [--message TEXT]`);
    // The pending list names it, with its worker.
    const listed = await reply(world, ["--json"]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).requests.map((r: ChatEvent) => [r.requestId, r.worker, r.status])).toEqual([[id, (await world.admin.list())[0]!.name, "pending"]]);
    // admin list counts it for the worker.
    const workers = JSON.parse((await admin("binary", world, ["list", "--json"])).stdout).workers as ChatEvent[];
    expect(workers.find((w) => w.workerId === workerId)!.pendingRequests).toBe(1);
    const r = await reply(world, [id, "once"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`Answered request ${id} (once)`);
    expect(await c.exited).toEqual({ code: 0, signal: null });
    expect(c.stdout).toBe(`${TOOL_FINAL_ANSWER}\n`);
    expect(c.stderr).toContain(`request ${id} answered once`);
    // The tool really ran: the model got the file's content back.
    const toolMessage = world.stub.completions().at(-1)!.body.messages.find((m: ChatEvent) => m.role === "tool");
    expect(JSON.stringify(toolMessage)).toContain(SECRET_LINE);
  }, TEST_TIMEOUT);

  test("reject --message: the agent receives the rejection and the answer completes; a second answer is refused", async () => {
    const c = startChat("binary", world, ["--worker", workerId, "--new", "--json", readEnvPrompt(cwd)]);
    const m = await c.waitFor(/permission (req_[a-z0-9]+) waits for an answer/, { stream: "stderr", timeoutMs: 60_000 });
    const id = m[1]!;
    const r = await reply(world, [id, "reject", "--message", "not the secrets, please"]);
    expect(r.code).toBe(0);
    expect(await c.exited).toEqual({ code: 0, signal: null });
    const evs = chatEvents(c.stdout);
    expect(evs.filter((e) => e.type === "permission").map((e) => [e.status, e.reply ?? null, e.message ?? null])).toEqual([
      ["pending", null, null],
      ["rejected", "reject", "not the secrets, please"],
    ]);
    const tool = evs.filter((e) => e.type === "tool").at(-1)!;
    expect(tool).toMatchObject({ name: "read", status: "error" });
    expect(tool.error).toContain("not the secrets, please");
    const toolMessage = world.stub.completions().at(-1)!.body.messages.find((x: ChatEvent) => x.role === "tool");
    expect(JSON.stringify(toolMessage)).toContain("not the secrets, please");
    expect(JSON.stringify(toolMessage)).not.toContain(SECRET_LINE);
    expect(evs.at(-1)).toMatchObject({ type: "end", status: "completed" });
    const again = await reply(world, [id, "once"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`Request ${id} was already rejected at \\d{4}-.* with the message "not the secrets, please"`));
  }, TEST_TIMEOUT);

  // Last: an "always" stays with this worker's OpenCode, so every later test here would go unasked.
  test("always: a later, new session of the same worker reads the file without asking (README: until its OpenCode stops)", async () => {
    const first = await chat("binary", world, ["--worker", workerId, "--new", "--json", "--permissions", "always", readEnvPrompt(cwd)]);
    expect(chatEvents(first.stdout).filter((e) => e.type === "permission").map((e) => [e.status, e.reply ?? null])).toEqual([
      ["pending", null],
      ["answered", "always"],
    ]);
    const later = await chat("binary", world, ["--worker", workerId, "--new", "--json", readEnvPrompt(cwd)]);
    expect(later.code).toBe(0);
    const evs = chatEvents(later.stdout);
    expect(evs.filter((e) => e.type === "permission")).toEqual([]);
    expect(evs.filter((e) => e.type === "tool").at(-1)).toMatchObject({ name: "read", status: "completed" });
    expect(evs.filter((e) => e.type === "tool").at(-1)!.output).toContain(SECRET_LINE);
  }, TEST_TIMEOUT);
});
