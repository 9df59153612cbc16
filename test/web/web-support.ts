// Helpers for the web page's tests: the real `web` command against a test world, a real
// headless Chromium (Debian's package, driven by playwright-core), and cookie-carrying fetch.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { REPO, startCli, type CliTarget } from "../support/cli.ts";
import type { World } from "../support/e2e.ts";
import type { Running } from "../support/proc.ts";
import { adminEnv } from "../e2e/dev-support.ts";

export const OUTPUT_DIR = join(REPO, "test/.output");
export const CHROMIUM = "/usr/bin/chromium";

export type Web = { proc: Running; loginUrl: string; base: string; token: string; port: number };

/** `web --address 127.0.0.1:0` with the world's backend and admin key; waits for its URL. */
export async function startWeb(target: CliTarget, world: World, args: string[] = ["--address", "127.0.0.1:0"]): Promise<Web> {
  const proc = startCli(target, ["web", ...args], { env: adminEnv(world) });
  const m = await proc.waitFor(/^(http:\/\/([^/\s]+))\/#token=([A-Za-z0-9_-]+)$/m, { stream: "stdout", timeoutMs: 30_000 });
  return { proc, loginUrl: m[0], base: m[1]!, token: m[3]!, port: Number(m[2]!.split(":").pop()) };
}

export async function stopWeb(web: Web | undefined): Promise<void> {
  if (!web || web.proc.child.exitCode !== null) return;
  web.proc.kill("SIGTERM");
  const t = setTimeout(() => web.proc.kill("SIGKILL"), 10_000);
  await web.proc.exited;
  clearTimeout(t);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** Logs in over HTTP like the page does and returns the session cookie (name=value). */
export async function loginCookie(web: Web): Promise<string> {
  const res = await fetch(`${web.base}/api/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: web.base },
    body: JSON.stringify({ token: web.token }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

export function outputPath(name: string): string {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return join(OUTPUT_DIR, name);
}
