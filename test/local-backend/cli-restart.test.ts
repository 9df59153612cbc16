// The `backend` command on a data folder, killed with SIGKILL and started again, through
// both CLI targets with the real convex/ functions: the same admin key, the worker's token
// still valid and approved, the chat session and its messages there, new ids new.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { adminApi, chatApi, workerApi } from "../../src/backend/api.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { CLI_TARGETS, startCli, type CliTarget } from "../support/cli.ts";
import type { Running } from "../support/proc.ts";
import { tempDir } from "../support/tmp.ts";

const running: Running[] = [];
afterEach(() => {
  for (const r of running.splice(0)) r.kill("SIGKILL");
});

async function backend(target: CliTarget, dataDir: string) {
  const proc = startCli(target, ["backend", "--port", "0", "--data", dataDir]);
  running.push(proc);
  const [, url] = await proc.waitFor(/^CONVEX_URL=(\S+)$/m, { stream: "stdout" });
  const [, key] = await proc.waitFor(/^CONVEX_ADMIN_KEY=(\S+)$/m, { stream: "stdout" });
  const admin = new ConvexHttpClient(url!, { logger: false });
  (admin as unknown as { setAdminAuth(k: string): void }).setAdminAuth(key!);
  return { proc, url: url!, key: key!, admin };
}

for (const target of CLI_TARGETS) {
  describe(`backend --data (${target})`, () => {
    test("kill -9 and start again: admin key, token, approval, session and messages all kept", async () => {
      const dir = join(tempDir("data-"), "backend");
      const first = await backend(target, dir);
      const added = await first.admin.action(adminApi.addWorker, { machineName: "box", workerName: "keeper" });
      await first.admin.mutation(adminApi.approve, { worker: added.workerId });
      const token = WorkerToken.parse(added.token)!;
      const auth = { machineId: token.machineId, workerId: token.workerId, secret: token.revealSecret() };
      const { sessionId } = await first.admin.mutation(chatApi.createSession, { worker: "keeper", title: "kept" });
      const sent = await first.admin.mutation(chatApi.send, { sessionId, text: "still here?" });
      const before = await first.admin.query(chatApi.messages, { sessionId });
      first.proc.kill("SIGKILL");
      await first.proc.exited;

      const second = await backend(target, dir);
      expect(second.key).toBe(first.key);
      const self = await new ConvexHttpClient(second.url, { logger: false }).query(workerApi.self, { auth });
      expect(self.approval).toBe("approved");
      expect(await second.admin.query(chatApi.messages, { sessionId })).toEqual(before);
      const again = await second.admin.mutation(chatApi.send, { sessionId, text: "yes" });
      expect([again.messageId, again.userMessageId]).not.toContain(sent.messageId);
      expect([again.messageId, again.userMessageId]).not.toContain(sent.userMessageId);
      second.proc.kill("SIGTERM");
      expect((await second.proc.exited).code).toBe(0);
    });
  });
}
