// The first-run prompts, for real: the entry runs under a pseudo-terminal (so stdin and
// stderr are TTYs, exactly as for a person) and the test types the answers.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/tmp.ts";
import { SECRET, token } from "./fixtures/workers.ts";

const ENTRY = join(import.meta.dir, "fixtures", "dev-setup-entry.ts");
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

type Pty = {
  /** Terminal output so far, without escape sequences. */
  text(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  type(keys: string): void;
  exited: Promise<number>;
};

function startInPty(cwd: string, env: Record<string, string | undefined> = {}, args: string[] = []): Pty {
  let raw = "";
  const decoder = new TextDecoder();
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: "1", TERM: "xterm-256color", ...env })) if (v !== undefined) merged[k] = v;
  const proc = Bun.spawn([process.execPath, ENTRY, ...args], {
    cwd,
    env: merged,
    terminal: { cols: 120, rows: 40, data: (_t, d) => (raw += decoder.decode(d, { stream: true })) },
  });
  const text = () => raw.replace(ANSI, "");
  return {
    text,
    type: (keys) => void proc.terminal!.write(keys),
    exited: proc.exited,
    async waitFor(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text())) {
        if (Date.now() > deadline) {
          proc.kill("SIGKILL");
          throw new Error(`timed out waiting for ${pattern}; terminal so far:\n${text()}`);
        }
        await Bun.sleep(25);
      }
    },
  };
}

/** The result line the entry prints once loadDevConfig returns. */
function result(pty: Pty): Record<string, unknown> {
  const m = /RESULT (\{.*\})/.exec(pty.text());
  if (!m) throw new Error(`no RESULT line in:\n${pty.text()}`);
  return JSON.parse(m[1]!);
}

const count = (text: string, pattern: RegExp) => (text.match(new RegExp(pattern.source, "g")) ?? []).length;

describe("dev first-run prompts (pseudo-terminal)", () => {
  test("asks for both values, re-asks after invalid answers, saves them 0600 keeping other lines", async () => {
    const cwd = tempDir("pty-");
    const envFile = join(cwd, ".env");
    const before = "# my project's settings\nDATABASE_URL=postgres://localhost/app\nexport FEATURE_FLAG='on' # keep\n";
    writeFileSync(envFile, before);
    chmodSync(envFile, 0o644);

    const pty = startInPty(cwd);
    await pty.waitFor(/Worker token/);
    pty.type(`machine_m1:worker_w1:${SECRET}\r`); // "secret_" prefix missing
    await pty.waitFor(/The token is not a worker token: the third part must be "secret_<secret>"/);
    expect(existsSync(join(cwd, ".env.tmp"))).toBe(false);
    pty.type(`${token("m1", "w1")}\r`);
    await pty.waitFor(/Convex deployment URL/);
    pty.type("http://example.com\r");
    await pty.waitFor(/The URL must use https:\/\/ for "example.com"/);
    pty.type("\x15https://happy-animal-123.convex.cloud/\r"); // Ctrl+U clears the line first
    await pty.waitFor(/RESULT/);
    expect(await pty.exited).toBe(0);

    const out = result(pty);
    expect(out).toMatchObject({
      name: "w1",
      token: "machine_m1:worker_w1:secret_****",
      convexUrl: "https://happy-animal-123.convex.cloud",
      workingDirectory: cwd,
      source: { kind: "env", envFile },
      warnings: [],
    });
    // The token prompt is masked: the secret never shows on the terminal.
    expect(pty.text()).not.toContain(SECRET);
    expect(count(pty.text(), /◆ {2}Worker token/)).toBe(2);
    expect(pty.text()).toContain(`Saved WORKER_TOKEN and CONVEX_URL to ${envFile} (mode 600)`);

    expect(readFileSync(envFile, "utf8")).toBe(`${before}WORKER_TOKEN=${token("m1", "w1")}\nCONVEX_URL=https://happy-animal-123.convex.cloud\n`);
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
  });

  test("asks only for what is missing, and updates an empty key in place", async () => {
    const cwd = tempDir("pty-");
    const envFile = join(cwd, ".env");
    writeFileSync(envFile, "A=1\nCONVEX_URL=\nB=2\n");
    const pty = startInPty(cwd, { WORKER_TOKEN: token("m7", "w7") });
    await pty.waitFor(/Convex deployment URL/);
    expect(pty.text()).not.toContain("Worker token");
    pty.type("http://127.0.0.1:3210\r");
    await pty.waitFor(/RESULT/);
    expect(await pty.exited).toBe(0);
    expect(result(pty)).toMatchObject({ name: "w7", convexUrl: "http://127.0.0.1:3210" });
    // The token came from the environment: it is not copied into the file.
    expect(readFileSync(envFile, "utf8")).toBe("A=1\nCONVEX_URL=http://127.0.0.1:3210\nB=2\n");
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
  });

  // Issue 8 item 19: with CONVEX_URL exported, only WORKER_TOKEN was saved and the next shell asked again.
  test("a value taken from the environment is saved with the answers (never the token)", async () => {
    const cwd = tempDir("pty-");
    const envFile = join(cwd, ".env");
    const pty = startInPty(cwd, { CONVEX_URL: "http://127.0.0.1:3210/" });
    await pty.waitFor(/Worker token/);
    pty.type(`${token("m3", "w3")}\r`);
    await pty.waitFor(/RESULT/);
    expect(await pty.exited).toBe(0);
    expect(pty.text()).not.toContain("Convex deployment URL");
    expect(readFileSync(envFile, "utf8")).toBe(`WORKER_TOKEN=${token("m3", "w3")}\nCONVEX_URL=http://127.0.0.1:3210\n`);
    // A fresh shell without the export asks nothing.
    const next = Bun.spawn([process.execPath, ENTRY], { cwd, stdin: "pipe", stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    const [code, stdout] = await Promise.all([next.exited, new Response(next.stdout).text()]);
    expect(code).toBe(0);
    expect(stdout).toContain('"convexUrl":"http://127.0.0.1:3210"');
  });

  test("--env-file: the answers go to that file", async () => {
    const cwd = tempDir("pty-");
    const pty = startInPty(cwd, {}, ["--env-file", "conf/dev.env"]);
    await pty.waitFor(/Worker token/);
    pty.type(`${token("m1", "w2")}\r`);
    await pty.waitFor(/Convex deployment URL/);
    pty.type("https://a.convex.cloud\r");
    await pty.waitFor(/RESULT/);
    expect(await pty.exited).toBe(0);
    expect(existsSync(join(cwd, ".env"))).toBe(false);
    expect(readFileSync(join(cwd, "conf", "dev.env"), "utf8")).toContain(`WORKER_TOKEN=${token("m1", "w2")}`);
    expect(statSync(join(cwd, "conf")).mode & 0o777).toBe(0o700);
  });

  test("Ctrl+C at the first prompt cancels with nothing written", async () => {
    const cwd = tempDir("pty-");
    const pty = startInPty(cwd);
    await pty.waitFor(/Worker token/);
    pty.type("\x03");
    await pty.waitFor(/CANCELLED/);
    expect(await pty.exited).toBe(1);
    expect(existsSync(join(cwd, ".env"))).toBe(false);
  });

  test("Ctrl+C at the second prompt leaves an existing .env untouched", async () => {
    const cwd = tempDir("pty-");
    const envFile = join(cwd, ".env");
    writeFileSync(envFile, "KEEP=me\n");
    chmodSync(envFile, 0o640);
    const pty = startInPty(cwd);
    await pty.waitFor(/Worker token/);
    pty.type(`${token("m1", "w1")}\r`);
    await pty.waitFor(/Convex deployment URL/);
    pty.type("https://half-typed");
    pty.type("\x03");
    await pty.waitFor(/CANCELLED/);
    expect(await pty.exited).toBe(1);
    expect(readFileSync(envFile, "utf8")).toBe("KEEP=me\n");
    expect(statSync(envFile).mode & 0o777).toBe(0o640);
  });

  test("without a terminal: exit 78 naming each missing variable, nothing written, no hang", async () => {
    const cwd = tempDir("pty-");
    const proc = Bun.spawn([process.execPath, ENTRY], { cwd, stdin: "pipe", stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    const [code, stdout] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
    clearTimeout(timer);
    expect(code).toBe(78);
    expect(stdout).toContain("ERROR 78 dev mode is missing settings");
    expect(stdout).toContain('"path":"WORKER_TOKEN"');
    expect(stdout).toContain('"path":"CONVEX_URL"');
    expect(existsSync(join(cwd, ".env"))).toBe(false);
  });
});
