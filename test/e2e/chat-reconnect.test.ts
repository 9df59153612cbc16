// `chat` while the backend goes away in the middle of an answer: it says it lost the
// connection (once), says when it is back, and still prints the whole answer exactly once.
import { expect, test } from "bun:test";
import { slowAnswerChunks } from "../support/stub-model.ts";
import { startChat, startOnlineDev, useWorld } from "./dev-support.ts";

const CHUNKS = 24;
const ANSWER = slowAnswerChunks(CHUNKS).join("");

const world = useWorld({ stub: { slowChunks: CHUNKS, slowChunkDelayMs: 500 } });

test("chat reports a lost backend connection and the reconnection, and prints the answer once", async () => {
  const { worker } = await startOnlineDev("binary", world);
  const chat = startChat("binary", world, ["--worker", worker.workerId, "--new", "SLOW through an outage"]);
  await chat.waitFor(/slow 1\. /, { stream: "stdout", timeoutMs: 60_000 });
  await world.backend.stopNetwork();
  await chat.waitFor(/lost the connection to http:\/\/127\.0\.0\.1:\d+; reconnecting/, { stream: "stderr", timeoutMs: 20_000 });
  await world.backend.startNetwork();
  await chat.waitFor(/^reconnected$/m, { stream: "stderr", timeoutMs: 30_000 });
  const end = await chat.exited;
  expect(end.code).toBe(0);
  expect(chat.stdout).toBe(ANSWER + (ANSWER.endsWith("\n") ? "" : "\n"));
  expect(chat.stderr.match(/lost the connection/g)?.length).toBe(1);
}, 120_000);
