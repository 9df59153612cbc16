// The page's security model over plain HTTP: no session → 401 everywhere, foreign Host →
// refused, cross-site writes refused, a strict CSP, and no secret in anything it serves.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { request } from "node:http";
import { runCli } from "../support/cli.ts";
import { adminEnv, useWorld } from "../e2e/dev-support.ts";
import { loginCookie, sseReader, startWeb, stopWeb, type Web } from "./web-support.ts";

let web: Web;
let cookie: string;
// Registered before the world's own afterAll, so `web` stops before the world does.
afterAll(() => stopWeb(web));
const world = useWorld();

beforeAll(async () => {
  web = await startWeb("binary", world);
  cookie = await loginCookie(web);
}, 60_000);

/** Every API endpoint the page uses, with a plausible body. */
function endpoints(ids: { worker: string; session: string; message: string }): { method: "GET" | "POST"; path: string; body?: unknown }[] {
  return [
    { method: "GET", path: "/api/session" },
    { method: "GET", path: "/api/workers" },
    { method: "GET", path: "/api/events" },
    { method: "GET", path: `/api/events?session=${ids.session}&worker=${ids.worker}` },
    { method: "GET", path: `/api/events?worker=${ids.worker}` },
    { method: "POST", path: "/api/workers", body: { machine: "m" } },
    { method: "POST", path: `/api/workers/${ids.worker}/approve`, body: {} },
    { method: "POST", path: `/api/workers/${ids.worker}/revoke`, body: {} },
    { method: "POST", path: `/api/workers/${ids.worker}/pause`, body: {} },
    { method: "POST", path: `/api/workers/${ids.worker}/resume`, body: {} },
    { method: "POST", path: "/api/sessions", body: { worker: ids.worker, text: "hi" } },
    { method: "GET", path: `/api/sessions/${ids.session}?worker=${ids.worker}` },
    { method: "POST", path: `/api/sessions/${ids.session}/messages`, body: { worker: ids.worker, text: "hi" } },
    { method: "POST", path: `/api/messages/${ids.message}/cancel`, body: { worker: ids.worker } },
    { method: "POST", path: "/api/requests/req_nothing/reply", body: { worker: ids.worker, reply: "once" } },
    { method: "POST", path: "/api/logout", body: {} },
    { method: "GET", path: "/api/nonexistent" },
  ];
}

async function someIds() {
  const w = await world.addWorker({ name: `sec-${Date.now()}` });
  const s = await world.admin.createSession(w.workerId, "t");
  const m = await world.admin.send(s.sessionId, "queued prompt");
  return { worker: w.workerId, session: s.sessionId, message: m.messageId, token: w.token };
}

/** A raw request, so the Host header can be anything (fetch does not allow setting it). */
function raw(o: { path: string; host: string; method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: web.port, path: o.path, method: o.method ?? "GET", headers: { Host: o.host, ...o.headers } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end(o.body);
  });
}

describe("web security", () => {
  test("without a session cookie every API endpoint answers 401 and changes nothing", async () => {
    const ids = await someIds();
    for (const e of endpoints(ids)) {
      const res = await fetch(web.base + e.path, {
        method: e.method,
        headers: e.body === undefined ? {} : { "Content-Type": "application/json", Origin: web.base },
        body: e.body === undefined ? undefined : JSON.stringify(e.body),
      });
      expect({ path: e.path, status: res.status }).toEqual({ path: e.path, status: 401 });
      await res.body?.cancel();
    }
    // A forged cookie is no better.
    const forged = await fetch(`${web.base}/api/workers`, { headers: { Cookie: `oo_session_${web.port}=forged` } });
    expect(forged.status).toBe(401);
    const w = (await world.admin.list()).find((x) => x.workerId === ids.worker)!;
    expect(w.approval).toBe("pending");
  }, 60_000);

  test("a wrong login token is refused; the right one gives an HttpOnly SameSite=Strict cookie", async () => {
    const bad = await fetch(`${web.base}/api/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: web.base },
      body: JSON.stringify({ token: web.token.slice(0, -1) + (web.token.endsWith("A") ? "B" : "A") }),
    });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("set-cookie")).toBeNull();
    const good = await fetch(`${web.base}/api/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: web.base },
      body: JSON.stringify({ token: web.token }),
    });
    const set = good.headers.get("set-cookie")!;
    // Named after the port: two `web` servers on one host keep separate logins.
    expect(set.startsWith(`oo_session_${web.port}=`)).toBe(true);
    expect(set).toContain("HttpOnly");
    expect(set).toContain("SameSite=Strict");
    expect(set).not.toContain(web.token);
  });

  test("a request whose Host is not this server's address is refused (DNS rebinding), even logged in", async () => {
    for (const host of [`evil.example:${web.port}`, `localhost.evil.example:${web.port}`, "127.0.0.1:1", `127.0.0.1`]) {
      expect((await raw({ path: "/", host })).status).toBe(403);
      expect((await raw({ path: "/api/workers", host, headers: { Cookie: cookie } })).status).toBe(403);
    }
    expect((await raw({ path: "/api/workers", host: `127.0.0.1:${web.port}`, headers: { Cookie: cookie } })).status).toBe(200);
    expect((await raw({ path: "/api/workers", host: `localhost:${web.port}`, headers: { Cookie: cookie } })).status).toBe(200);
  });

  test("cross-site state changes are refused: foreign or missing Origin, or a form content type", async () => {
    const ids = await someIds();
    const attempts: Record<string, string>[] = [
      { Origin: "http://evil.example", "Content-Type": "application/json" },
      { "Content-Type": "application/json" },
      { Origin: web.base, "Content-Type": "text/plain" },
      { Origin: web.base, "Content-Type": "application/x-www-form-urlencoded" },
    ];
    for (const headers of attempts) {
      const res = await fetch(`${web.base}/api/workers/${ids.worker}/approve`, { method: "POST", headers: { ...headers, Cookie: cookie }, body: "{}" });
      expect({ headers, status: res.status }).toEqual({ headers, status: 403 });
    }
    expect((await world.admin.list()).find((x) => x.workerId === ids.worker)!.approval).toBe("pending");
    // The same request from our own page works.
    const ok = await fetch(`${web.base}/api/workers/${ids.worker}/approve`, {
      method: "POST",
      headers: { Origin: web.base, "Content-Type": "application/json", Cookie: cookie },
      body: "{}",
    });
    expect(ok.status).toBe(200);
    expect((await world.admin.list()).find((x) => x.workerId === ids.worker)!.approval).toBe("approved");
  });

  test("every response carries a strict Content-Security-Policy: self only, no inline script, no eval", async () => {
    for (const path of ["/", "/app.js", "/app.css", "/api/workers", "/nope"]) {
      const res = await fetch(web.base + path);
      const csp = res.headers.get("content-security-policy")!;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("unsafe-eval");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      await res.body?.cancel();
    }
    const html = await (await fetch(web.base + "/")).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  test("neither the admin key nor any worker secret appears in any response or asset", async () => {
    const ids = await someIds();
    const secret = /secret_([A-Za-z0-9_-]+)/.exec(ids.token)![1]!;
    const bodies: string[] = [];
    for (const path of ["/", "/app.js", "/app.css", "/api/workers", `/api/sessions/${ids.session}?worker=${ids.worker}`]) {
      const res = await fetch(web.base + path, { headers: { Cookie: cookie } });
      bodies.push(JSON.stringify(Object.fromEntries(res.headers as unknown as Iterable<[string, string]>)) + (await res.text()));
    }
    // The live stream's first events.
    const ac = new AbortController();
    const res = await fetch(`${web.base}/api/events?session=${ids.session}&worker=${ids.worker}`, { headers: { Cookie: cookie }, signal: ac.signal });
    const reader = res.body!.getReader();
    let sse = "";
    while (!["workers", "sessions", "message", "requests"].every((e) => sse.includes(`event: ${e}`))) sse += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    bodies.push(sse);
    const all = bodies.join("\n");
    expect(all).toContain(ids.worker);
    expect(all).not.toContain(world.backend.adminKey);
    expect(all).not.toContain(secret);
    expect(web.proc.stdout + web.proc.stderr).not.toContain(world.backend.adminKey);
  });

  test("oversized and malformed bodies get a clear 4xx, not a crash", async () => {
    const headers = { Origin: web.base, "Content-Type": "application/json", Cookie: cookie };
    const big = await fetch(`${web.base}/api/workers`, { method: "POST", headers, body: JSON.stringify({ machine: "x".repeat(2 * 1024 * 1024) }) });
    expect(big.status).toBe(413);
    const notJson = await fetch(`${web.base}/api/workers`, { method: "POST", headers, body: "{nope" });
    expect(notJson.status).toBe(400);
    const missing = await fetch(`${web.base}/api/workers`, { method: "POST", headers, body: "{}" });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toContain("machine");
    expect((await fetch(`${web.base}/api/workers`, { headers: { Cookie: cookie } })).status).toBe(200);
  });
});

describe("web command", () => {
  test("the Node bundle serves the same built-in page; a non-loopback address warns", async () => {
    const node = await startWeb("node", world, ["--address", "0.0.0.0:0"]);
    try {
      expect(node.base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(node.port).toBeGreaterThan(0);
      await node.proc.waitFor(/warning: listening on 0\.0\.0\.0:\d+, reachable from other machines/, { stream: "stderr" });
      const js = await fetch(`${node.base}/app.js`);
      expect(js.status).toBe(200);
      expect(js.headers.get("content-type")).toContain("javascript");
      expect((await js.text()).length).toBeGreaterThan(10_000);
      // Live updates stream under Node as well.
      const ac = new AbortController();
      const res = await fetch(`${node.base}/api/events`, { headers: { Cookie: await loginCookie(node) }, signal: ac.signal });
      const first = await sseReader(res).next(15_000);
      ac.abort();
      expect(first.event).toBe("workers");
      expect(Array.isArray(first.data.workers)).toBe(true);
    } finally {
      await stopWeb(node);
    }
    expect(web.proc.stderr).not.toContain("warning:");
  }, 60_000);

  test("a bad --address or a missing admin key is one clear message and the documented exit code", async () => {
    const bad = await runCli("binary", ["web", "--address", "nowhere"], { env: adminEnv(world) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--address must be HOST:PORT");
    const noKey = await runCli("binary", ["web"], { env: { ...world.env, CONVEX_ADMIN_KEY: undefined } });
    expect(noKey.code).toBe(78);
    expect(noKey.stderr).toContain("admin key");
    expect(noKey.stderr).not.toContain("    at ");
    const taken = await runCli("binary", ["web", "--address", `127.0.0.1:${web.port}`], { env: adminEnv(world) });
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("already in use");
  }, 60_000);

  test("Ctrl+C stops it with exit 0, ending open live streams; an unreachable backend is refused at start (exit 1)", async () => {
    const other = await startWeb("binary", world);
    const ac = new AbortController();
    const res = await fetch(`${other.base}/api/events`, { headers: { Cookie: await loginCookie(other) }, signal: ac.signal });
    const reader = sseReader(res);
    expect((await reader.next(15_000)).event).toBe("workers");
    other.proc.kill("SIGINT");
    expect((await other.proc.exited).code).toBe(0);
    await expect(reader.next(5_000)).rejects.toThrow("the event stream ended");
    expect(other.proc.stderr).toContain("web page stopped");

    const down = await runCli("binary", ["web", "--address", "127.0.0.1:0"], { env: adminEnv(world, { CONVEX_URL: "http://127.0.0.1:9" }) });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("cannot reach the backend at http://127.0.0.1:9");
    expect(down.stdout).toBe("");
  }, 60_000);
});
