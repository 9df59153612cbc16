// `chat --json` while the backend goes away in the middle of an answer: it waits through the
// outage (its reads of new parts go over the live-update connection, not calls that fail) and
// prints every piece of the answer exactly once, then its end.
import { expect, test } from "bun:test";
import { slowAnswerChunks } from "../support/stub-model.ts";
import { chatEvents, startChat, startOnlineDev, useWorld } from "./dev-support.ts";

const CHUNKS = 24;
const ANSWER = slowAnswerChunks(CHUNKS).join("");

const world = useWorld({ stub: { slowChunks: CHUNKS, slowChunkDelayMs: 500 } });

test("chat --json prints the answer's text events once each across a backend outage, then end", async () => {
  const { worker } = await startOnlineDev("binary", world);
  const chat = startChat("binary", world, ["--worker", worker.workerId, "--new", "--json", "SLOW through an outage"]);
  await chat.waitFor(/"type":"text"/, { stream: "stdout", timeoutMs: 60_000 });
  await world.backend.stopNetwork();
  await chat.waitFor(/lost the connection/, { stream: "stderr", timeoutMs: 20_000 });
  await world.backend.startNetwork();
  const end = await chat.exited;
  expect(end.code).toBe(0);
  const events = chatEvents(chat.stdout);
  expect(events.filter((e) => e.type === "text").map((e) => e.text).join("")).toBe(ANSWER);
  expect(events.at(-1)).toMatchObject({ type: "end", status: "completed" });
}, 120_000);
