// The page in a real headless Chromium against the embedded backend, a real `dev` worker and
// a real OpenCode on the stub model: log in, approve, stream, cancel, reload, and agent
// output that tries to run script.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, startCli } from "../support/cli.ts";
import { STUB_MODEL, STUB_PRICED_MODEL, STUB_PROVIDER } from "../support/opencode-env.ts";
import { CANNED_ANSWER, TOOL_FINAL_ANSWER } from "../support/stub-model.ts";
import type { Running } from "../support/proc.ts";
import { stopAll, useWorld } from "../e2e/dev-support.ts";
import { launchBrowser, outputPath, startCuttableRelay, startWeb, stopWeb, type Web } from "./web-support.ts";

const T = 120_000;
let web: Web;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let workerId: string;
// Started by hand, not with startDev: that one is stopped after each test, this one serves the file.
let dev: Running | undefined;
const pageErrors: string[] = [];

afterAll(async () => {
  await browser?.close();
  await stopWeb(web);
  dev?.kill("SIGTERM");
  await Promise.race([dev?.exited, new Promise((r) => setTimeout(r, 15_000))]);
  await stopAll();
});
const world = useWorld();

beforeAll(async () => {
  web = await startWeb("binary", world);
  browser = await launchBrowser();
  ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await ctx.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
}, 60_000);

const card = (name: string) => page.locator(`li.worker[data-worker="${name}"]`);
const answers = () => page.locator(".msg.assistant");

async function send(text: string): Promise<void> {
  const box = page.locator('textarea[name="prompt"]');
  await box.fill(text);
  await box.press("Enter");
  await page.waitForFunction(() => (document.querySelector('textarea[name="prompt"]') as HTMLTextAreaElement).value === "", null, { timeout: 15_000 });
}

describe("web page in Chromium", () => {
  test("the printed URL logs in: the token leaves the address bar and an HttpOnly cookie remains", async () => {
    await page.goto(web.loginUrl);
    await page.locator(".sidebar-head").waitFor();
    expect(page.url()).not.toContain(web.token);
    const cookie = (await ctx.cookies()).find((c) => c.name === `oo_session_${web.port}`)!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe("Strict");
    expect(await page.evaluate(() => document.cookie)).toBe("");
    // A second tab without the token is logged in too, a fresh context is not.
    const other = await (await browser.newContext()).newPage();
    await other.goto(web.base + "/");
    await other.locator("main.login").waitFor();
    // Says where the link is: most people got it from `up`, and a restart prints a new one.
    expect(await other.locator("main.login").innerText()).toContain("opencode-orchestrator up (or web) printed");
    await other.context().close();
  }, T);

  test("a pending worker shows up live; Approve brings it online; Pause and Resume work", async () => {
    const w = await world.addWorker({ name: "web-worker" });
    workerId = w.workerId;
    await card("web-worker").locator('.badge[data-state="pending approval"]').waitFor({ timeout: 15_000 });
    dev = startCli("binary", ["dev"], { cwd: world.project("web-project"), env: { ...world.env, WORKER_TOKEN: w.token, WORKER_TAGS: "api,linux" } });
    // The heartbeat, folder and tags arrive once dev registers.
    await card("web-worker").locator("dd", { hasText: "web-project" }).waitFor({ timeout: 60_000 });
    expect(await card("web-worker").locator("dd", { hasText: "api, linux" }).count()).toBe(1);
    await card("web-worker").getByRole("button", { name: "Approve" }).click();
    await card("web-worker").locator('.badge[data-state="online"]').waitFor({ timeout: 60_000 });
    expect((await world.admin.list()).find((x) => x.workerId === workerId)!.approval).toBe("approved");
    // Pause and resume from the page, seen live.
    await card("web-worker").getByRole("button", { name: "Pause" }).click();
    await card("web-worker").locator('.badge[data-state="paused"]').waitFor({ timeout: 15_000 });
    expect((await world.admin.list()).find((x) => x.workerId === workerId)!.paused).toBe(true);
    await card("web-worker").getByRole("button", { name: "Resume" }).click();
    await card("web-worker").locator('.badge[data-state="online"]').waitFor({ timeout: 15_000 });
  }, T);

  test("a prompt sent with Enter streams its answer before it completes; Cancel stops it", async () => {
    await card("web-worker").locator("a.worker-link").click();
    await page.waitForURL((u) => u.hash === `#/w/${workerId}`);
    // Shift+Enter adds a line instead of sending.
    const box = page.locator('textarea[name="prompt"]');
    await box.fill("SLOW streamed from the page");
    await box.press("Shift+Enter");
    expect(await box.inputValue()).toBe("SLOW streamed from the page\n");
    await send("SLOW streamed from the page");
    await page.waitForURL(/#\/w\/[^/]+\/s\/[^/]+$/, { timeout: 15_000 });
    const running = page.locator('.msg.assistant[data-status="running"] .md', { hasText: "slow 2." });
    await running.waitFor({ timeout: 60_000 });
    await page.screenshot({ path: outputPath("chat-desktop-streaming.png") });
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.locator('.msg.assistant[data-status="cancelled"]').waitFor({ timeout: 30_000 });
    const sessionId = decodeURIComponent(page.url().split("/s/")[1]!);
    const [answer] = (await world.admin.messages(sessionId)).filter((m) => m.role === "assistant");
    expect(answer!.status).toBe("cancelled");
    // What the page shows is exactly what the backend holds: nothing lost, nothing doubled.
    expect((await answers().locator(".md").innerText()).trim()).toBe(answer!.text.trim());
  }, T);

  test("a reload shows the same session, and it takes the next prompt", async () => {
    const before = page.url();
    const shown = await answers().first().locator(".md").innerText();
    await page.reload();
    await answers().first().locator(".md").waitFor({ timeout: 15_000 });
    expect(page.url()).toBe(before);
    expect(await answers().first().locator(".md").innerText()).toBe(shown);
    await send("ECHO:The **second turn** renders markdown:\n\n- a list item\n- `inline code`\n\n```\nnpm run build\n```");
    await page.locator('.msg.assistant[data-status="completed"] strong', { hasText: "second turn" }).waitFor({ timeout: 60_000 });
    expect(await page.locator(".msg.assistant li code", { hasText: "inline code" }).count()).toBe(1);
    expect(await page.locator(".msg.assistant pre code", { hasText: "npm run build" }).count()).toBe(1);
    expect(await page.locator(".session.current").innerText()).toBe("SLOW streamed from the page");
  }, T);

  test("a turn shows its tool call, its file change with the diff, and its usage; the session list is the backend's", async () => {
    await page.evaluate((w) => (location.hash = `#/w/${w}`), workerId);
    await page.locator("a.session.new.current").waitFor();
    await send(`TOOLCMD:echo web-tool-output`);
    const bash = page.locator('.msg.assistant .tool[data-tool="bash"][data-status="completed"]');
    await bash.waitFor({ timeout: 60_000 });
    expect(await bash.locator("summary").innerText()).toContain("bash");
    // Collapsed until opened; the output excerpt is inside.
    expect(await bash.locator(".tool-output").isVisible()).toBe(false);
    await bash.locator("summary").click();
    expect(await bash.locator(".tool-output").innerText()).toContain("web-tool-output");
    await page.locator('.msg.assistant[data-status="completed"] .md', { hasText: TOOL_FINAL_ANSWER }).waitFor({ timeout: 60_000 });
    expect(await page.locator('.msg.assistant[data-status="completed"] .usage').innerText()).toMatch(/^20 in · 40 out tokens · \$0$/);

    const bashSession = decodeURIComponent(page.url().split("/s/")[1]!);

    // The stub calls a tool only when none ran in the session yet: a new session for the write.
    await page.locator("a.session.new").click();
    await page.locator("a.session.new.current").waitFor();
    const file = join(world.project("web-project"), "web-notes.txt");
    await send(`TOOLJSON:write ${JSON.stringify({ filePath: file, content: "one\ntwo\nthree\n" })}`);
    // Named relative to the worker's folder, as its tool line names it; the diff's header too.
    const change = page.locator('.msg.assistant .file[data-path="web-notes.txt"]');
    await change.waitFor({ timeout: 60_000 });
    expect(await change.locator("summary").innerText()).toMatch(/added[\s\S]*web-notes\.txt[\s\S]*\+3[\s\S]*−0/);
    expect(await change.innerText()).not.toContain(world.project("web-project"));
    expect((await change.locator(".line.add").allInnerTexts()).map((l) => l.trim())).toEqual(expect.arrayContaining(["+one", "+two", "+three"]));
    await page.locator('.msg.assistant[data-status="completed"] .tool[data-tool="write"][data-status="completed"]').waitFor({ timeout: 60_000 });
    expect(readFileSync(file, "utf8")).toBe("one\ntwo\nthree\n");
    await page.screenshot({ path: outputPath("chat-desktop-tools.png") });
    // docs/web-screenshot.png is a copy of this one, refreshed by hand (a test run leaves docs/ alone).
    await page.screenshot({ path: outputPath("web-screenshot.png") });

    // The session list comes from the backend, newest first, titled by the first prompt.
    const writeSession = decodeURIComponent(page.url().split("/s/")[1]!);
    await page.locator(`a.session.current[data-session="${writeSession}"]`).waitFor({ timeout: 15_000 });
    const chips = page.locator("a.session[data-session]");
    expect((await chips.evaluateAll((els) => els.map((e) => e.getAttribute("data-session")))).slice(0, 2)).toEqual([writeSession, bashSession]);
    expect(await chips.nth(1).innerText()).toBe("TOOLCMD:echo web-tool-output");
    // A reload shows the same turn whole: the parts come back with the session.
    await page.reload();
    await page.locator('.msg.assistant .file[data-path="web-notes.txt"] .line.add', { hasText: "+three" }).waitFor({ timeout: 15_000 });
    expect(page.url()).toContain(`/s/${writeSession}`);
    // Opening the other session from the list shows its tool call again.
    await chips.nth(1).click();
    await page.locator('.msg.assistant .tool[data-tool="bash"][data-status="completed"]').waitFor({ timeout: 15_000 });
    expect(await page.locator(".msg.assistant .file").count()).toBe(0);
  }, T);

  test("the agent reading .env.local asks; Allow once on the page lets the turn continue to its answer", async () => {
    const cwd = world.project("web-project");
    writeFileSync(join(cwd, ".env.local"), "API_KEY=web-test-value\n");
    await page.evaluate((w) => (location.hash = `#/w/${w}`), workerId);
    await page.locator("a.session.new.current").waitFor();
    await send(`TOOLJSON:read ${JSON.stringify({ filePath: join(cwd, ".env.local") })}`);
    const ask = page.locator('.msg.assistant[data-status="running"] .request.permission[data-status="pending"]');
    await ask.waitFor({ timeout: 60_000 });
    expect(await ask.locator(".request-title").innerText()).toMatch(/read .*\.env\.local$/);
    await card("web-worker").locator('.waiting[data-pending="1"]').waitFor({ timeout: 15_000 });
    await page.screenshot({ path: outputPath("permission-desktop.png") });
    await ask.getByRole("button", { name: "Allow once" }).click();
    const done = page.locator('.msg.assistant[data-status="completed"]');
    await done.locator(".request-outcome", { hasText: "allowed once" }).waitFor({ timeout: 60_000 });
    await done.locator('.tool[data-tool="read"][data-status="completed"]').waitFor({ timeout: 60_000 });
    await done.locator(".md", { hasText: TOOL_FINAL_ANSWER }).waitFor({ timeout: 60_000 });
    await card("web-worker").locator(".waiting").waitFor({ state: "detached", timeout: 15_000 });
    const sessionId = decodeURIComponent(page.url().split("/s/")[1]!);
    const [answer] = (await world.admin.messages(sessionId)).filter((m) => m.role === "assistant");
    expect((await world.admin.listRequests(answer!.messageId)).map((r) => [r.permission, r.status, r.reply])).toEqual([["read", "answered", "once"]]);
  }, T);

  test("the model picker offers the worker's models; the picked one answers the prompt", async () => {
    await page.evaluate((w) => (location.hash = `#/w/${w}`), workerId);
    await page.locator("a.session.new.current").waitFor();
    const picker = page.locator('select[name="model"]');
    const priced = `${STUB_PROVIDER}/${STUB_PRICED_MODEL}`;
    expect(await picker.locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(["", `${STUB_PROVIDER}/${STUB_MODEL}`, priced]);
    await picker.selectOption(priced);
    const before = world.stub.completions().length;
    await send("Say hello with the priced model");
    const done = page.locator('.msg.assistant[data-status="completed"]');
    await done.locator(".md", { hasText: CANNED_ANSWER }).waitFor({ timeout: 60_000 });
    const asked = world.stub.completions().slice(before);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.map((q) => q.body.model)).toEqual(asked.map(() => STUB_PRICED_MODEL));
    // A priced model's cost shows, not rounded away to $0.
    await done.locator(".usage", { hasText: /tokens · \$0\.0\d*[1-9]/ }).waitFor({ timeout: 15_000 });
  }, T);

  test("an answer carrying script, onerror and javascript: payloads runs nothing", async () => {
    await page.locator("a.session.new").click();
    await page.waitForURL(/#\/w\/[^/]+$/);
    const payload =
      `ECHO:<script>window.__pwned="script"</script> <img src="x" onerror="window.__pwned='img'"> ` +
      `[click me](javascript:window.__pwned='md-link') <a href="javascript:window.__pwned='a'">or me</a> ` +
      `<iframe src="javascript:parent.__pwned='iframe'"></iframe> <svg onload="window.__pwned='svg'"></svg> done`;
    await send(payload);
    const done = page.locator('.msg.assistant[data-status="completed"]');
    await done.waitFor({ timeout: 60_000 });
    await done.locator(".md", { hasText: "done" }).waitFor();
    const md = done.locator(".md");
    expect(await md.locator("script, iframe, svg, [onerror], [onload]").count()).toBe(0);
    expect(await md.locator('a[href^="javascript:"]').count()).toBe(0);
    await md.getByText("click me").click();
    await md.getByText("or me").click();
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned)).toBeUndefined();
    // The prompt, shown as the person typed it, is text and not markup either.
    expect(await page.locator(".msg.user .prompt").last().innerText()).toContain("<script>");
    expect(pageErrors).toEqual([]);
  }, T);

  test("a dropped connection reconnects by itself with Last-Event-ID; the answer shows exactly once, nothing missing", async () => {
    const relay = await startCuttableRelay(web.port);
    const cut = await (await browser.newContext()).newPage();
    try {
      await cut.goto(`${relay.base}/#token=${web.token}`);
      await cut.locator(".sidebar-head").waitFor();
      await cut.evaluate((w) => (location.hash = `#/w/${w}`), workerId);
      const box = cut.locator('textarea[name="prompt"]');
      await box.fill("SLOW answer across a dropped connection");
      await box.press("Enter");
      const running = cut.locator('.msg.assistant[data-status="running"]');
      await running.locator(".md", { hasText: "slow 2." }).waitFor({ timeout: 60_000 });
      const messageId = (await running.getAttribute("data-message"))!;
      const before = relay.requests.length;
      relay.cut();
      // EventSource comes back by itself, saying what it already has.
      const deadline = Date.now() + 15_000;
      while (!relay.requests.slice(before).some((r) => r.startsWith("GET /api/events") && /\r\nlast-event-id: \S+/i.test(r))) {
        if (Date.now() > deadline) throw new Error(`no reconnect with Last-Event-ID:\n${relay.requests.slice(before).join("\n---\n")}`);
        await Bun.sleep(50);
      }
      const later = await world.waitForMessage(messageId, (m) => m.text.includes("slow 6."), 60_000);
      await running.locator(".md", { hasText: later.text.trim().split(" ").slice(-2).join(" ") }).waitFor({ timeout: 15_000 });
      await running.getByRole("button", { name: "Cancel" }).click();
      const done = cut.locator(`.msg.assistant[data-message="${messageId}"][data-status="cancelled"]`);
      await done.waitFor({ timeout: 30_000 });
      const final = await world.waitForMessage(messageId);
      expect((await done.locator(".md").innerText()).trim()).toBe(final.text.trim());
    } finally {
      await cut.context().close();
      await relay.stop();
    }
  }, T);

  test("Add worker shows the token once with the .env lines and a workers.json entry that validates; the worker appears pending", async () => {
    await page.getByRole("button", { name: "Add worker" }).click();
    await page.locator('input[name="machine"]').fill("laptop");
    await page.locator('input[name="name"]').fill("added-from-page");
    await page.getByRole("button", { name: "Create" }).click();
    const envLine = page.locator(".copy-field pre", { hasText: "WORKER_TOKEN=" });
    await envLine.waitFor({ timeout: 15_000 });
    const [tokenLine, urlLine] = (await envLine.innerText()).split("\n");
    expect(tokenLine).toMatch(/^WORKER_TOKEN=machine_[^:]+:worker_[^:]+:secret_\S+$/);
    // dev needs the backend's URL as well, and after `up` a person has never seen it.
    expect(urlLine).toBe(`CONVEX_URL=${world.backend.url}`);
    const json = JSON.parse(await page.locator(".copy-field pre", { hasText: '"workers"' }).innerText());
    expect(json.workers[0]).toMatchObject({ name: "added-from-page", token: tokenLine!.slice("WORKER_TOKEN=".length), convex_url: world.backend.url });
    const file = join(world.project("added-from-page"), "workers.json");
    writeFileSync(file, JSON.stringify({ workers: [{ ...json.workers[0], working_directory: "." }] }), { mode: 0o600 });
    const valid = await runCli("binary", ["validate", "--config", file], { env: world.env });
    expect(valid.stderr + valid.stdout).toContain("is valid");
    expect(valid.code).toBe(0);
    await card("added-from-page").locator('.badge[data-state="pending approval"]').waitFor({ timeout: 15_000 });
    await page.getByRole("link", { name: "Done" }).click();
    // Gone from the page once left: it was shown once.
    await page.locator(".copy-field").first().waitFor({ state: "detached" });
  }, T);

  test("screenshots at desktop and phone width (test/.output), and the phone layout is usable", async () => {
    await page.goto(`${web.base}/#/w/${workerId}`);
    await page.locator(".session", { hasText: "SLOW streamed" }).click();
    await answers().first().waitFor();
    await page.screenshot({ path: outputPath("chat-desktop.png") });
    // Light and dark follow the system.
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await background();
    await page.emulateMedia({ colorScheme: "dark" });
    expect(await background()).not.toBe(light);
    await page.screenshot({ path: outputPath("chat-desktop-dark.png") });
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: outputPath("chat-phone.png") });
    // On a phone the chat takes the screen; the list is one tap away.
    expect(await page.locator(".sidebar").isVisible()).toBe(false);
    expect(await page.locator('textarea[name="prompt"]').isVisible()).toBe(true);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await page.getByRole("link", { name: "← Workers" }).click();
    await page.locator(".sidebar").waitFor({ state: "visible" });
    await page.screenshot({ path: outputPath("workers-phone.png") });
    await page.setViewportSize({ width: 1280, height: 800 });
  }, T);
});
