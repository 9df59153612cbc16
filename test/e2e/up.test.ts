// `up` as a new user meets it: one command in a fresh HOME gives an approved worker online for
// the folder; `chat` from another process with nothing exported answers; Ctrl+C drains and
// exits 0; the next `up` brings back the same worker, and `chat` continues the same session.
// The secrets stay out of every environment and command line, and out of the project folder.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { CANNED_ANSWER } from "../support/stub-model.ts";
import { processesWithEnv } from "../../src/util/process-group.ts";
import { alive, childrenOf, opencodePid, procCmdline, procEnviron, sessionOf, waitGone } from "./dev-support.ts";
import { openUpHome, type UpHome } from "./up-support.ts";

let current: UpHome | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]!));
  return out;
}

const READY = /1 worker: 1 ready/;

/** The web page's login link that up printed. */
function webLink(stderr: string): URL {
  const m = /http:\/\/127\.0\.0\.1:\d+\/#token=\S+/.exec(stderr);
  expect(m).not.toBeNull();
  return new URL(m![0]);
}

describe("up", () => {
  test("fresh HOME: one command → worker online and approved; chat with no env answers; Ctrl+C drains; up again → same worker and session", async () => {
    const { home } = await openUpHome();
    current = home;
    const project = home.project("my-app");

    const up = await home.startUp("binary", [], project);
    await up.waitFor(READY, { stream: "stderr", timeoutMs: 90_000 });
    expect(up.stderr).toContain("started the local backend at");
    expect(up.stderr).toContain('chat --worker my-app "your prompt"');
    // The web page is served too; the printed link carries the login token.
    const page = webLink(up.stderr);
    expect((await fetch(page.origin)).status).toBe(200);
    expect((await fetch(`${page.origin}/api/session`)).status).toBe(401);

    // A person's command from another folder, nothing exported: the local backend, said on stderr.
    const list = await home.cli("binary", ["admin", "list", "--json"]);
    expect(list.code).toBe(0);
    expect(list.stderr).toContain("using the local backend at");
    const workers = JSON.parse(list.stdout).workers;
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatchObject({ name: "my-app", approval: "approved", status: "online", directory: project });
    const workerId: string = workers[0].workerId;

    // Flags still win over the local backend.
    const elsewhere = await home.cli("binary", ["admin", "list", "--url", "http://127.0.0.1:9", "--admin-key", "not-the-key", "--timeout", "5"]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain("cannot reach the backend at http://127.0.0.1:9");
    expect(elsewhere.stderr).not.toContain("using the local backend");

    const first = await home.cli("binary", ["chat", "--worker", "my-app", "hello"]);
    expect(first.stderr).toContain("using the local backend at");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(CANNED_ANSWER);
    const sessionId = sessionOf(first.stderr);

    // The token: 0600 in a 0700 folder under XDG_CONFIG_HOME; nothing of it in the project folder.
    const tokenFile = join(home.configDir, "local-workers.json");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(home.configDir).mode & 0o777).toBe(0o700);
    const record = JSON.parse(readFileSync(tokenFile, "utf8")).workers[0];
    expect(record).toMatchObject({ folder: project, workerId, name: "my-app" });
    const secret = String(record.token).split(":secret_")[1]!;
    expect(secret.length).toBeGreaterThan(10);
    const adminKey = readFileSync(join(home.dataDir, "admin-key"), "utf8").trim();
    for (const f of readdirSync(project, { recursive: true, withFileTypes: true })) {
      if (f.isFile()) expect(readFileSync(join(f.parentPath, f.name), "utf8")).not.toContain(secret);
    }

    // No admin key or token in the environment or command line of up, OpenCode and its children,
    // or the backend (it reads its key from its folder).
    const ocPid = await opencodePid(up);
    const pids = [...tree(up.child.pid!), ...tree(ocPid), home.runtime().pid];
    for (const pid of new Set(pids)) {
      let text: string;
      try {
        text = [...procEnviron(pid), ...procCmdline(pid)].join("\n");
      } catch {
        continue; // exited meanwhile
      }
      expect(text).not.toContain(secret);
      expect(text).not.toContain(adminKey);
      expect(text).not.toContain("CONVEX_ADMIN_KEY=");
      expect(text).not.toContain("WORKER_TOKEN=");
    }
    for (const out of [up.stdout, up.stderr, list.stderr, first.stderr]) {
      expect(out).not.toContain(secret);
      expect(out).not.toContain(adminKey);
    }

    // Ctrl+C drains and exits 0; the backend keeps running for the next up.
    const backend = home.runtime();
    up.kill("SIGINT");
    expect((await up.exited).code).toBe(0);
    expect(await waitGone(ocPid)).toBe(true);
    expect(await fetch(page.origin).then(() => "answered", () => "refused")).toBe("refused");
    expect(alive(backend.pid)).toBe(true);

    // The next up asks nothing and brings back the same worker; chat continues the session.
    const again = await home.startUp("binary", [], project);
    await again.waitFor(READY, { stream: "stderr", timeoutMs: 90_000 });
    expect(again.stderr).toContain(`using the local backend at ${backend.url}`);
    expect(again.stderr).not.toContain("new worker");
    const relist = JSON.parse((await home.cli("binary", ["admin", "list", "--json"])).stdout).workers;
    expect(relist.map((w: { workerId: string }) => w.workerId)).toEqual([workerId]);
    const second = await home.cli("binary", ["chat", "--worker", "my-app", "and again"]);
    expect(second.code).toBe(0);
    expect(sessionOf(second.stderr)).toBe(sessionId);
    again.kill("SIGINT");
    expect((await again.exited).code).toBe(0);

    // Stop everything: a person's command then says there is no backend and how to start one.
    expect((await home.cli("binary", ["up", "--stop-backend"])).code).toBe(0);
    expect(await waitGone(backend.pid)).toBe(true);
    expect(processesWithEnv("XDG_STATE_HOME", home.env.XDG_STATE_HOME!)).toEqual([]);
    const after = await home.cli("binary", ["chat", "--worker", "my-app", "anyone?"]);
    expect(after.code).toBe(78);
    expect(after.stderr).toContain("has stopped");
    expect(after.stderr).toContain("opencode-orchestrator up");

    // up again: a new backend on the same address with the same data; the session continues.
    const third = await home.startUp("binary", [], project);
    await third.waitFor(READY, { stream: "stderr", timeoutMs: 90_000 });
    expect(third.stderr).toContain(`started the local backend at ${backend.url}`);
    const resumed = await home.cli("binary", ["chat", "--worker", "my-app", "still the same session?"]);
    expect(resumed.code).toBe(0);
    expect(sessionOf(resumed.stderr)).toBe(sessionId);
    third.kill("SIGINT");
    expect((await third.exited).code).toBe(0);

    // Stopping the backend leaves nothing of this HOME running.
    const restarted = home.runtime().pid;
    expect((await home.cli("binary", ["up", "--stop-backend"])).code).toBe(0);
    expect(await waitGone(restarted)).toBe(true);
    expect(processesWithEnv("XDG_STATE_HOME", home.env.XDG_STATE_HOME!)).toEqual([]);
  }, 240_000);

  test("two ups in two folders share one backend; stopping the first leaves the second working", async () => {
    const { home } = await openUpHome();
    current = home;
    const a = home.project("alpha");
    const b = home.project("beta");

    // Started together: only one backend may open the data folder, and both must end up on it.
    const [upA, upB] = await Promise.all([home.startUp("node", [], a), home.startUp("node", [b], home.root)]);
    await Promise.all([upA.waitFor(READY, { stream: "stderr", timeoutMs: 90_000 }), upB.waitFor(READY, { stream: "stderr", timeoutMs: 90_000 })]);
    const backend = home.runtime();
    for (const up of [upA, upB]) expect(up.stderr).toContain(backend.url);
    // Each up serves its own page: the second on a free port, as the default is taken.
    expect(webLink(upA.stderr).origin).not.toBe(webLink(upB.stderr).origin);
    expect(processesWithEnv("XDG_STATE_HOME", home.env.XDG_STATE_HOME!).filter((p) => procCmdline(p).includes("backend"))).toEqual([backend.pid]);

    // A third up for a folder already served refuses, instead of a second OpenCode on one token.
    const twice = await home.cli("node", ["up", a], { cwd: a });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(`${a} is already served by another up (pid ${upA.child.pid}`);

    upA.kill("SIGINT");
    expect((await upA.exited).code).toBe(0);
    const chat = await home.cli("node", ["chat", "--worker", basename(b), "still there?"]);
    expect(chat.code).toBe(0);
    expect(chat.stdout).toContain(CANNED_ANSWER);

    upB.kill("SIGINT");
    expect((await upB.exited).code).toBe(0);
    expect((await home.cli("node", ["up", "--stop-backend"])).code).toBe(0);
    expect(await waitGone(backend.pid)).toBe(true);
  }, 240_000);

  test("an up killed while the backend starts leaves it findable: the next up uses it, no second backend", async () => {
    const { home } = await openUpHome();
    current = home;
    const project = home.project("app");
    const first = await home.startUp("binary", [], project);
    // The backend is recorded the moment it exists, before it serves.
    const runtime = join(home.dataDir, "runtime.json");
    while (!existsSync(runtime)) {
      if (first.child.exitCode !== null) throw new Error(`up exited early:\n${first.stderr}`);
      await Bun.sleep(5);
    }
    first.kill("SIGKILL");
    await first.exited;
    const { pid } = home.runtime();

    const second = await home.startUp("binary", [], project);
    await second.waitFor(READY, { stream: "stderr", timeoutMs: 90_000 });
    expect(second.stderr).toContain("using the local backend at");
    expect(home.runtime().pid).toBe(pid);
    const backends = processesWithEnv("XDG_STATE_HOME", home.env.XDG_STATE_HOME!).filter((p) => procCmdline(p).includes("backend"));
    expect(backends).toEqual([pid]);
    second.kill("SIGINT");
    expect((await second.exited).code).toBe(0);
  }, 240_000);
});
