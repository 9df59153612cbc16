// workers.json's `permission` (OpenCode's own rules) and `permission_timeout`: accepted in
// OpenCode's shape, handed to the worker as written; a wrong value is named by its path with the fix.
import { describe, expect, test } from "bun:test";
import { loadWorkersConfig } from "../../src/config/workers-file.ts";
import { DEFAULTS } from "../../src/config/types.ts";
import { ConfigError } from "../../src/util/errors.ts";
import { scenario, token, writeConfig } from "./fixtures/workers.ts";

function config(extra: Record<string, unknown>) {
  const s = scenario();
  const entry = { token: token("m1", "w1"), working_directory: s.project, convex_url: "https://happy-animal-123.convex.cloud", ...extra };
  writeConfig(s.configPath, JSON.stringify({ workers: [entry] }));
  return s.configPath;
}

async function loadError(path: string): Promise<ConfigError> {
  try {
    await loadWorkersConfig(path, { createTemplate: false });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("workers.json: permission and permission_timeout", () => {
  test("OpenCode's rules, per permission or per pattern, reach the worker as written; the timeout in ms", async () => {
    const permission = { bash: { "git status": "allow", "*": "ask" }, edit: "ask", external_directory: "deny" } as const;
    const loaded = await loadWorkersConfig(config({ permission, permission_timeout: 90 }), { createTemplate: false });
    expect(loaded.workers[0]!.permission).toEqual(permission);
    expect(loaded.workers[0]!.permissionTimeoutMs).toBe(90_000);
  });

  test("absent: no rules of ours, the default timeout", async () => {
    const w = (await loadWorkersConfig(config({}), { createTemplate: false })).workers[0]!;
    expect(w.permission).toBeUndefined();
    expect(w.permissionTimeoutMs).toBe(DEFAULTS.permissionTimeoutMs);
  });

  test("a value OpenCode does not know, a bad name or a bad timeout: each named by its path", async () => {
    const e = await loadError(config({ permission: { bash: "sometimes", "Not A Name": "ask" }, permission_timeout: 0 }));
    const issues = e.issues.map((i) => [i.path, i.message]);
    expect(issues).toContainEqual(["workers[0].permission.bash", 'must be "ask", "allow" or "deny"']);
    expect(issues).toContainEqual(["workers[0].permission.Not A Name", expect.stringContaining("is not an OpenCode permission name")]);
    expect(e.issues.filter((i) => i.path.startsWith("workers[0].permission.")).every((i) => i.fix?.includes('{"bash": "ask", "edit": "ask"}'))).toBe(true);
    expect(issues.some(([p]) => p === "workers[0].permission_timeout")).toBe(true);
  });
});
