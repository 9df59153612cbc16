// `admin pause` from anywhere: the worker finishes the answer it is running, takes no new
// prompt (it waits queued) and shows as paused; `admin resume` lets the queued prompt run.
import { expect, test } from "bun:test";
import { slowAnswerChunks } from "../support/stub-model.ts";
import { admin, startOnlineDev, waitForText, useWorld } from "./dev-support.ts";

const CHUNKS = 12;
const world = useWorld({ stub: { slowChunks: CHUNKS, slowChunkDelayMs: 250 } });

test("pause finishes the running answer and holds new ones; resume runs them", async () => {
  const { worker, dev } = await startOnlineDev("binary", world);
  const { sessionId } = await world.admin.createSession(worker.workerId, "pause");
  const other = await world.admin.createSession(worker.workerId, "pause 2");
  const running = await world.admin.send(sessionId, "SLOW while pausing");
  await waitForText(world, running.messageId);

  const paused = await admin("node", world, ["pause", worker.name]);
  expect(paused.code).toBe(0);
  expect(paused.stderr).toContain(`Paused worker "${worker.name}"`);
  await dev.waitFor(/state busy → paused/, { stream: "stderr" });

  // The running answer completes; a new prompt (another session, so nothing orders it) waits.
  const held = await world.admin.send(other.sessionId, "ECHO:after resume");
  const done = await world.waitForMessage(running.messageId);
  expect(done).toMatchObject({ status: "completed", text: slowAnswerChunks(CHUNKS).join("") });
  await new Promise((r) => setTimeout(r, 1_500));
  expect((await world.admin.message(held.messageId))!.status).toBe("queued");
  const list = await admin("binary", world, ["list"]);
  expect(list.stdout).toMatch(new RegExp(`${worker.name}\\s.*draining, paused`));

  const resumed = await admin("binary", world, ["resume", worker.workerId]);
  expect(resumed.code).toBe(0);
  const answered = await world.waitForMessage(held.messageId);
  expect(answered).toMatchObject({ status: "completed", text: "after resume" });
  await dev.waitFor(/resumed: taking prompts again/, { stream: "stderr" });
  expect(dev.child.exitCode).toBeNull();
}, 120_000);
