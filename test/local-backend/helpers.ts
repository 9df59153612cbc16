// Shared by the protocol tests: a backend serving the fixture functions, real clients, and
// waiting for a condition (with a generous deadline that only turns a hang into a failure).
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { startLocalBackend, type LocalBackend, type LocalBackendOptions } from "../../src/local-backend/backend.ts";
import { modules, schema } from "./fixtures/modules.ts";

// Untyped references ("messages:list" etc.): the fixtures have no generated API.
export const api = anyApi;

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
