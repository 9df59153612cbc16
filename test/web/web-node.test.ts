// The Node bundle (dist/cli.mjs, what pnpm/npm users run) carries the same page as the binary:
// served by `web` under Node, it logs in with the printed URL and shows a worker live, in a
// real headless Chromium. The other page tests drive the binary.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { useWorld } from "../e2e/dev-support.ts";
import { launchBrowser, startWeb, stopWeb, type Web } from "./web-support.ts";

let node: Web;
let binary: Web;
let browser: Browser;
// Before useWorld: afterAll hooks run in the order they were registered, and the web
// processes go before the world they use.
afterAll(async () => {
  await browser?.close();
  await stopWeb(node);
  await stopWeb(binary);
});
const world = useWorld();

beforeAll(async () => {
  [node, binary] = await Promise.all([startWeb("node", world), startWeb("binary", world)]);
  browser = await launchBrowser();
}, 60_000);

test("under Node the page logs in and shows a worker added afterwards", async () => {
  const page = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(node.loginUrl);
  await page.locator(".sidebar-head").waitFor();
  expect(page.url()).not.toContain(node.token);
  await world.addWorker({ name: "node-page-worker" });
  await page.locator('li.worker[data-worker="node-page-worker"]').waitFor({ timeout: 15_000 });
  expect(errors).toEqual([]);
}, 120_000);

test("the Node bundle serves the same page script as the binary", async () => {
  const scriptOf = async (web: Web) => {
    const html = await (await fetch(web.base + "/")).text();
    const src = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
    expect(src).toBeDefined();
    return (await fetch(web.base + src!)).text();
  };
  const [fromNode, fromBinary] = await Promise.all([scriptOf(node), scriptOf(binary)]);
  expect(fromNode.length).toBeGreaterThan(10_000);
  expect(fromNode).toBe(fromBinary);
}, 60_000);
