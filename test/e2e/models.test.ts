// Models per prompt (issue 11): a worker's models are in the backend before its first prompt,
// with no OpenCode server started for it; `chat --model` runs one prompt with one of them (the
// stub sees which model OpenCode asked for), and an unknown model is refused before anything is
// queued, naming the worker's models. Real CLI, embedded backend, real OpenCode, stub model.
import { expect, test } from "bun:test";
import type { ModelInfo } from "../../src/backend/api.ts";
import { STUB_MODEL, STUB_PRICED_MODEL, STUB_PROVIDER } from "../support/opencode-env.ts";
import { CANNED_ANSWER } from "../support/stub-model.ts";
import type { World } from "../support/e2e.ts";
import { answers, chat, sessionOf, startOnlineDev, useWorld } from "./dev-support.ts";

const world = useWorld();
const TEST_TIMEOUT = 120_000;
const DEFAULT = `${STUB_PROVIDER}/${STUB_MODEL}`;
const PRICED = `${STUB_PROVIDER}/${STUB_PRICED_MODEL}`;

/** Waits until the worker's published models are non-empty (published by `dev` at start). */
async function publishedModels(w: World, workerId: string): Promise<ModelInfo[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const models = (await w.admin.list()).find((x) => x.workerId === workerId)!.models;
    if (models.length > 0) return models;
    if (Date.now() > deadline) throw new Error("the worker published no models within 60 s");
    await Bun.sleep(100);
  }
}

test("models are published at start, before any prompt and without starting OpenCode; admin list shows them", async () => {
  const { worker, dev } = await startOnlineDev("binary", world);
  const models = await publishedModels(world, worker.workerId);
  expect(models).toEqual([
    { providerId: STUB_PROVIDER, modelId: STUB_MODEL, name: "Stub Model" },
    { providerId: STUB_PROVIDER, modelId: STUB_PRICED_MODEL, name: "Stub Priced" },
  ]);
  await dev.waitFor(/models published source="opencode models" count=2/, { stream: "stderr", timeoutMs: 10_000 });
  // Listed by `opencode models`, not by a server kept for it.
  expect(dev.stderr).not.toContain("OpenCode started");
  expect(world.stub.completions()).toEqual([]);
}, TEST_TIMEOUT);

test("chat --model runs that prompt with that model; OpenCode keeps it for the session, a new session starts on the default", async () => {
  const { worker } = await startOnlineDev("binary", world);
  await publishedModels(world, worker.workerId);
  const before = world.stub.completions().length;
  const r = await chat("binary", world, ["--worker", worker.workerId, "--new", "--model", PRICED, "Say hello"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`${CANNED_ANSWER}\n`);
  const asked = world.stub.completions().slice(before);
  expect(asked.length).toBeGreaterThan(0);
  expect(asked.map((q) => q.body.model)).toEqual(asked.map(() => STUB_PRICED_MODEL));
  // The answer says which model it was asked with; one without --model says null (the default).
  const [answer] = await answers(world, sessionOf(r.stderr));
  expect(answer!.model).toBe(PRICED);

  // OpenCode answers a prompt without a model with the session's last one.
  let mid = world.stub.completions().length;
  const same = await chat("binary", world, ["--worker", worker.workerId, "--session", sessionOf(r.stderr), "Say hello again"]);
  expect(same.code).toBe(0);
  expect(world.stub.completions().slice(mid).map((q) => q.body.model)).toEqual([STUB_PRICED_MODEL]);
  mid = world.stub.completions().length;
  const fresh = await chat("binary", world, ["--worker", worker.workerId, "--new", "Say hello anew"]);
  expect(fresh.code).toBe(0);
  expect(world.stub.completions().slice(mid).map((q) => q.body.model)).toEqual([STUB_MODEL]);
  expect((await answers(world, sessionOf(fresh.stderr)))[0]!.model).toBeNull();
}, TEST_TIMEOUT);

test("an unknown model is refused before the prompt is queued, listing the worker's models; exit 1", async () => {
  const { worker } = await startOnlineDev("binary", world);
  await publishedModels(world, worker.workerId);
  const { sessionId } = await world.admin.createSession(worker.workerId, "models");
  const r = await chat("binary", world, ["--worker", worker.workerId, "--session", sessionId, "--model", "stub/no-such-model", "Say hello"]);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toContain(`has no model "stub/no-such-model". Its models: ${DEFAULT}, ${PRICED}.`);
  expect(await world.admin.messages(sessionId)).toEqual([]);

  const malformed = await chat("binary", world, ["--worker", worker.workerId, "--session", sessionId, "--model", "just-a-name", "Say hello"]);
  expect(malformed.code).toBe(1);
  expect(malformed.stderr).toContain("The model must be written provider/model");
  expect(await answers(world, sessionId)).toEqual([]);
}, TEST_TIMEOUT);

test("a worker that never ran has no models yet: --model says so and sends nothing", async () => {
  const w = await world.addWorker({ approve: true });
  const { sessionId } = await world.admin.createSession(w.workerId, "not started");
  const r = await chat("binary", world, ["--worker", w.workerId, "--session", sessionId, "--model", DEFAULT, "Say hello"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`Worker "${w.name}" has not published its models yet`);
  expect(await world.admin.messages(sessionId)).toEqual([]);
}, TEST_TIMEOUT);
