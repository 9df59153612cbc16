// `admin` through the real CLI (compiled binary and Node bundle) against the embedded backend:
// the token alone on stdout, approve/revoke by id and by name, list as a table and as JSON
// (never a secret or its hash), and the errors a person sees when something is off.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { CLI_TARGETS, runCli, type CliTarget } from "../support/cli.ts";
import { startWorld, type World } from "../support/e2e.ts";

const TOKEN = /^machine_([a-z0-9]+):worker_([a-z0-9]+):secret_([A-Za-z0-9_-]+)$/;
let world: World;

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.stop();
});

function admin(target: CliTarget, args: string[], env: Record<string, string | undefined> = {}) {
  return runCli(target, ["admin", ...args], {
    env: { CONVEX_URL: world.backend.url, CONVEX_ADMIN_KEY: world.backend.adminKey, NO_COLOR: "1", ...env },
    timeoutMs: 30_000,
  });
}

function noStackTrace(text: string): void {
  expect(text).not.toMatch(/^\s+at .+:\d+/m);
  expect(text).not.toContain("unexpected failure");
}

/** A port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

for (const target of CLI_TARGETS) {
  describe(`admin (${target})`, () => {
    const name = `api-${target}`;
    let token = "";
    let workerId = "";

    test("add-worker prints only the token on stdout; the rest (with the approve command) on stderr", async () => {
      const r = await admin(target, ["add-worker", "--machine", `laptop-${target}`, "--name", name]);
      expect(r.code).toBe(0);
      expect(r.stdout.endsWith("\n")).toBe(true);
      token = r.stdout.trimEnd();
      const m = TOKEN.exec(token);
      expect(m).not.toBeNull();
      workerId = m![2]!;
      expect(r.stderr).toContain(`Created worker "${name}" (id ${workerId}) on machine "laptop-${target}", awaiting approval.`);
      expect(r.stderr).toContain(`opencode-orchestrator admin approve ${name}`);
      // Shown once, on stdout only.
      expect(r.stderr).not.toContain(m![3]!);
      const row = (await world.admin.list()).find((w) => w.workerId === workerId);
      expect(row).toMatchObject({ name, approval: "pending", machineName: `laptop-${target}` });
    });

    test("list: a table, and --json — neither with the secret or its hash", async () => {
      const secret = TOKEN.exec(token)![3]!;
      const table = await admin(target, ["list"]);
      expect(table.code).toBe(0);
      const [header, ...rows] = table.stdout.trimEnd().split("\n");
      expect(header).toMatch(/^MACHINE\s+WORKER\s+ID\s+APPROVAL\s+STATUS\s+HEARTBEAT\s+REQUESTS\s+FOLDER\s+MODELS$/);
      const line = rows.find((l) => l.includes(workerId));
      expect(line).toMatch(new RegExp(`^laptop-${target}\\s+${name}\\s+${workerId}\\s+pending\\s+offline\\s+never\\s+0\\b`));
      expect(table.stdout).not.toContain(secret);

      const json = await admin(target, ["list", "--json"]);
      expect(json.code).toBe(0);
      const doc = JSON.parse(json.stdout) as { workers: Record<string, unknown>[] };
      const w = doc.workers.find((x) => x.workerId === workerId)!;
      expect(w).toMatchObject({ name, approval: "pending", status: "offline", lastHeartbeatAt: null, machineName: `laptop-${target}`, pendingRequests: 0 });
      expect(json.stdout).not.toContain(secret);
      expect(json.stdout).not.toMatch(/secret|hash/i);
    });

    test("approve by name, revoke by id; a revoked worker cannot be approved again", async () => {
      const approved = await admin(target, ["approve", name]);
      expect(approved.code).toBe(0);
      expect(approved.stdout).toBe("");
      expect(approved.stderr).toContain(`Approved worker "${name}" (id ${workerId})`);
      expect((await world.admin.list()).find((w) => w.workerId === workerId)!.approval).toBe("approved");

      const revoked = await admin(target, ["revoke", workerId]);
      expect(revoked.code).toBe(0);
      expect(revoked.stderr).toContain(`Revoked worker "${name}" (id ${workerId})`);
      expect((await world.admin.list()).find((w) => w.workerId === workerId)!.approval).toBe("revoked");

      const again = await admin(target, ["approve", workerId]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("was revoked and cannot be approved again");
      noStackTrace(again.stderr);
    });

    test("approve by id and revoke by name work too", async () => {
      const other = await world.addWorker({ name: `web-${target}` });
      expect((await admin(target, ["approve", other.workerId])).code).toBe(0);
      expect((await world.admin.list()).find((w) => w.workerId === other.workerId)!.approval).toBe("approved");
      expect((await admin(target, ["revoke", other.name])).code).toBe(0);
      expect((await world.admin.list()).find((w) => w.workerId === other.workerId)!.approval).toBe("revoked");
    });

    test("unknown worker → a clear message, exit 1", async () => {
      for (const sub of ["approve", "revoke"]) {
        const r = await admin(target, [sub, "no-such-worker"]);
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toContain('No worker with id or name "no-such-worker"');
        noStackTrace(r.stderr);
      }
    });

    test("wrong admin key → says the key was rejected (without echoing it), exit 1", async () => {
      const r = await admin(target, ["list"], { CONVEX_ADMIN_KEY: "oco_not-the-right-key-1234567890" });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(`the backend at ${world.backend.url} rejected the admin key`);
      expect(r.stderr).toContain("CONVEX_ADMIN_KEY");
      expect(r.stderr).not.toContain("not-the-right-key");
      noStackTrace(r.stderr);
    });

    test("unreachable backend → says it cannot reach the URL, exit 1", async () => {
      const url = `http://127.0.0.1:${await deadPort()}`;
      const r = await admin(target, ["add-worker", "--machine", "m"], { CONVEX_URL: url });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(`cannot reach the backend at ${url}`);
      noStackTrace(r.stderr);
    });

    test("missing URL and admin key → exit 78 naming each flag and its variable", async () => {
      const none = await admin(target, ["list"], { CONVEX_URL: undefined, CONVEX_ADMIN_KEY: undefined });
      expect(none.code).toBe(78);
      expect(none.stdout).toBe("");
      for (const word of ["--url", "CONVEX_URL", "--admin-key", "CONVEX_ADMIN_KEY"]) expect(none.stderr).toContain(word);

      const noKey = await admin(target, ["list", "--url", world.backend.url], { CONVEX_URL: undefined, CONVEX_ADMIN_KEY: undefined });
      expect(noKey.code).toBe(78);
      expect(noKey.stderr).toContain("--admin-key");
      expect(noKey.stderr).not.toContain("--url:");

      // Flags work without the environment.
      const flags = await admin(target, ["list", "--json", "--url", world.backend.url, "--admin-key", world.backend.adminKey], {
        CONVEX_URL: undefined,
        CONVEX_ADMIN_KEY: undefined,
      });
      expect(flags.code).toBe(0);
      expect(JSON.parse(flags.stdout).workers.length).toBeGreaterThan(0);
    });
  });
}
