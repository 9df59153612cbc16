// Permission requests and questions answered from the page in a real Chromium. The requests are
// raised through the worker-facing API (as a worker does when OpenCode asks) on a claimed answer,
// so what is tested is the page: it shows them live, counts them on the worker, and its buttons
// store the person's answer in the backend.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { connectWorkerBackend, type WorkerBackend } from "../../src/backend/worker-client.ts";
import { WorkerToken } from "../../src/config/token.ts";
import { useWorld } from "../e2e/dev-support.ts";
import { launchBrowser, outputPath, startWeb, stopWeb, type Web } from "./web-support.ts";

let web: Web;
let browser: Browser;
let page: Page;
let wb: WorkerBackend | undefined;
afterAll(async () => {
  await wb?.close();
  await browser?.close();
  await stopWeb(web);
});
const world = useWorld();

beforeAll(async () => {
  web = await startWeb("binary", world);
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
}, 60_000);

test("a permission request and a question show on the answer and on the worker, and the page's buttons answer them", async () => {
  const w = await world.addWorker({ name: "asks", approve: true });
  wb = connectWorkerBackend(world.backend.url, WorkerToken.parse(w.token)!);
  const instanceId = `instance-${crypto.randomUUID()}`;
  await wb.register(instanceId, { hostname: "h", version: "0", directory: "/p" });
  const s = await world.admin.createSession(w.workerId, "asks for things");
  const { messageId } = await world.admin.send(s.sessionId, "read the secrets", w.workerId);
  expect((await wb.claim(instanceId, messageId)).claimed).toBe(true);

  await page.goto(web.loginUrl);
  await page.locator(".sidebar-head").waitFor();
  await page.evaluate(([wid, sid]) => (location.hash = `#/w/${wid}/s/${sid}`), [w.workerId, s.sessionId]);
  await page.locator(`.msg.assistant[data-message="${messageId}"]`).waitFor();

  await wb.raiseRequest(instanceId, messageId, { kind: "permission", title: "read /p/.env", permission: "read", patterns: ["/p/.env"] }, "per_1");
  await wb.raiseRequest(
    instanceId,
    messageId,
    { kind: "question", title: "Which file?", questions: [{ question: "Which file should I fix?", header: "File", options: [{ label: "a.ts", description: "the first" }, { label: "b.ts", description: "the second" }] }] },
    "que_1",
  );
  const permission = page.locator('.request.permission[data-status="pending"]', { hasText: "read /p/.env" });
  await permission.waitFor({ timeout: 15_000 });
  await page.locator('.request.question[data-status="pending"]').waitFor({ timeout: 15_000 });
  await page.locator('li.worker[data-worker="asks"] .waiting[data-pending="2"]').waitFor({ timeout: 15_000 });
  await page.screenshot({ path: outputPath("requests-desktop.png") });

  await permission.getByRole("button", { name: "Allow once" }).click();
  await page.locator(".request.permission .request-outcome", { hasText: "allowed once" }).waitFor({ timeout: 15_000 });
  const question = page.locator('.request.question[data-status="pending"]');
  await question.getByRole("button", { name: "b.ts" }).click();
  await question.getByRole("button", { name: "Answer" }).click();
  await page.locator(".request.question .request-outcome", { hasText: "answered: b.ts" }).waitFor({ timeout: 15_000 });
  await page.locator('li.worker[data-worker="asks"] .waiting').waitFor({ state: "detached", timeout: 15_000 });

  const stored = await world.admin.listRequests(messageId);
  expect(stored.map((r) => [r.kind, r.status, r.reply ?? null, r.answers ?? null])).toEqual([
    ["permission", "answered", "once", null],
    ["question", "answered", "once", [["b.ts"]]],
  ]);

  // A reject carries the person's message to the agent.
  await wb.raiseRequest(instanceId, messageId, { kind: "permission", title: "bash rm -rf /", permission: "bash" }, "per_2");
  const risky = page.locator('.request.permission[data-status="pending"]', { hasText: "bash rm -rf /" });
  await risky.locator("input.reject-note").fill("never delete everything");
  await risky.getByRole("button", { name: "Reject" }).click();
  await page.locator(".request-outcome", { hasText: "never delete everything" }).waitFor({ timeout: 15_000 });
  expect((await world.admin.listRequests(messageId)).at(-1)).toMatchObject({ status: "rejected", reply: "reject", message: "never delete everything" });
}, 120_000);
