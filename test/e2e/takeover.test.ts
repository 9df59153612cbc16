// Two processes running the same worker token: the newer one takes the worker over and the older
// one stops that worker for good, naming the newer process and the fix — no restart, so the two
// never knock each other out in a loop. Real CLI processes against the embedded backend.
import { describe, expect, test } from "bun:test";
import { ConvexHttpClient } from "convex/browser";
import { workerApi } from "../../src/backend/api.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { CANNED_ANSWER, slowAnswerChunks } from "../support/stub-model.ts";
import { startDev, startOnlineDev, useWorld, waitForText } from "./dev-support.ts";

const T = 120_000;
const CHUNKS = 16;
const ANSWER = slowAnswerChunks(CHUNKS).join("");

const world = useWorld({ stub: { slowChunks: CHUNKS, slowChunkDelayMs: 250 } });

/** The backend's record of the worker as its own token sees it (workers:self). */
async function selfView(token: string) {
  const t = WorkerToken.parse(token)!;
  const client = new ConvexHttpClient(world.backend.url);
  return await client.query(workerApi.self, { auth: { machineId: t.machineId, workerId: t.workerId, secret: t.revealSecret() } });
}

/** Log lines of a worker going online (one per registration that got through). */
const onlineLines = (stderr: string) => stderr.split("\n").filter((l) => /\bonline\b.*workerId/.test(l));

describe("two dev processes with one token", () => {
  test("the second takes over: the first stops with exit 78 naming it, its running answer ends interrupted, the second serves", async () => {
    const { worker, cwd, dev: first } = await startOnlineDev("binary", world);
    const { sessionId } = await world.admin.createSession(worker.workerId, "takeover");
    const { messageId } = await world.admin.send(sessionId, "SLOW while taken over");
    await waitForText(world, messageId);

    const second = startDev("binary", world, { cwd, token: worker.token });
    await second.waitFor(/\bonline\b/, { stream: "stderr", timeoutMs: 30_000 });
    const end = await first.exited;
    expect(end.code).toBe(78);
    const pid = second.child.pid!;
    expect(first.stderr).toMatch(new RegExp(`taken over: another process \\(pid ${pid} on [^)]+\\) registered with this worker's token`));
    expect(first.stderr).toContain("stop the other process and restart this one (orchestrate: reload it, e.g. SIGHUP), or give this one its own token");
    expect(first.stderr).not.toContain("restarting in");
    // One registration each: the first never came back.
    expect(onlineLines(first.stderr)).toHaveLength(1);

    // The running answer: lost with the old process's lease, ended once, its text never doubled.
    const lost = await world.waitForMessage(messageId);
    expect(lost.status).toBe("interrupted");
    expect(lost.reason).toContain("worker restarted while answering");
    expect(ANSWER.startsWith(lost.text)).toBe(true);

    // The backend: the second process is the worker, online.
    const view = await selfView(worker.token);
    expect(view.status).toBe("online");
    expect(view.holder?.pid).toBe(pid);

    // A bounded number of events later (a whole answer), still one registration of the second.
    const next = await world.admin.send(sessionId, "Say hello");
    expect(await world.waitForMessage(next.messageId)).toMatchObject({ status: "completed", text: CANNED_ANSWER });
    expect(onlineLines(second.stderr)).toHaveLength(1);
    expect(second.child.exitCode).toBeNull();
    second.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
  }, T);
});
