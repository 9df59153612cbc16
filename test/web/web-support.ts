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

export type SseEvent = { event: string; id: string | undefined; data: any };

/** Reads server-sent events from a fetch response, one at a time. */
export function sseReader(res: Response): { next(timeoutMs?: number): Promise<SseEvent> } {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    async next(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue;
            const i = line.indexOf(":");
            if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1).replace(/^ /, "");
          }
          if (!fields.event) continue; // retry: and keepalive blocks
          return { event: fields.event, id: fields.id, data: JSON.parse(fields.data ?? "null") };
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no server-sent event within ${timeoutMs}ms (buffer: ${buffer.slice(0, 200)})`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const chunk = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no server-sent event within ${timeoutMs}ms`)), left))),
        ]).finally(() => clearTimeout(timer));
        if (chunk.done) throw new Error("the event stream ended");
        buffer += decoder.decode(chunk.value, { stream: true });
      }
    },
  };
}

/**
 * A TCP relay on another loopback address with the same port, so the page's Host check
 * accepts it; `cut()` drops every connection through it, as a flaky network would.
 */
export async function startCuttableRelay(port: number, host = "127.0.0.2") {
  const { createServer, connect } = await import("node:net");
  const sockets = new Set<import("node:net").Socket>();
  const requests: string[] = [];
  const server = createServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    sockets.add(client).add(upstream);
    client.once("data", (d) => requests.push(d.toString("latin1")));
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, host, () => resolve()));
  return {
    base: `http://${host}:${port}`,
    /** First bytes of each connection (request lines and headers). */
    requests,
    cut() {
      for (const s of [...sockets]) s.destroy();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of [...sockets]) s.destroy();
        server.close(() => resolve());
      }),
  };
}
