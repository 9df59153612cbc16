// Shared by the protocol tests: a backend serving the fixture functions, real clients, and
// waiting for a condition (with a generous deadline that only turns a hang into a failure).
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { startLocalBackend, type LocalBackend, type LocalBackendOptions } from "../../src/local-backend/backend.ts";
import { modules, schema } from "./fixtures/modules.ts";

// References to the fixture functions (there is no generated API); loosely typed on purpose.
const q = (name: string) => makeFunctionReference<"query", any, any>(name);
const m = (name: string) => makeFunctionReference<"mutation", any, any>(name);
const a = (name: string) => makeFunctionReference<"action", any, any>(name);

export const api = {
  messages: {
    list: q("messages:list"),
    count: q("messages:count"),
    send: m("messages:send"),
    claim: m("messages:claim"),
    failWithData: m("messages:failWithData"),
    boom: q("messages:boom"),
    atLeast: q("messages:atLeast"),
    noisy: q("messages:noisy"),
    big: q("messages:big"),
    nothing: m("messages:nothing"),
  },
  actions: { shout: a("actions:shout"), sendVia: a("actions:sendVia"), refuse: a("actions:refuse") },
  admin: { sweepCount: q("admin:sweepCount"), secret: q("admin:secret"), wipe: m("admin:wipe") },
};

const backends: LocalBackend[] = [];
const clients: ConvexClient[] = [];

export async function fixtureBackend(opts: LocalBackendOptions = {}): Promise<LocalBackend> {
  const b = await startLocalBackend({ schema, modules, sweepIntervalMs: 0, ...opts });
  backends.push(b);
  return b;
}

export function wsClient(url: string, opts: { adminKey?: string } = {}): ConvexClient {
  const c = new ConvexClient(url, { logger: false });
  if (opts.adminKey) asAdmin(c).setAdminAuth(opts.adminKey);
  clients.push(c);
  return c;
}

export function httpClient(url: string, opts: { adminKey?: string } = {}): ConvexHttpClient {
  const c = new ConvexHttpClient(url, { logger: false });
  if (opts.adminKey) asAdmin(c).setAdminAuth(opts.adminKey);
  return c;
}

// setAdminAuth is marked internal in the client's types, but it is how `npx convex run` works.
function asAdmin(c: ConvexClient | ConvexHttpClient): { setAdminAuth(key: string): void } {
  return c as unknown as { setAdminAuth(key: string): void };
}

/** Close every client and backend the test made. */
export async function cleanup(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(backends.splice(0).map((b) => b.stop()));
}

/** Resolves once `check` returns a value other than undefined/false. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Subscribe and keep the latest value (or error) for assertions. */
export function watch<T = unknown>(client: ConvexClient, ref: Parameters<ConvexClient["onUpdate"]>[0], args: Record<string, unknown> = {}) {
  const state: { value?: T; error?: Error; updates: number } = { updates: 0 };
  const unsubscribe = client.onUpdate(
    ref,
    args,
    (v) => {
      state.value = v as T;
      state.error = undefined;
      state.updates++;
    },
    (e) => {
      state.error = e;
      state.updates++;
    },
  );
  return { state, unsubscribe };
}
