// The workers `up` makes: named after their folders and made unique, recorded in
// local-workers.json; a damaged record file is one clear error naming it, with nothing created.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openUpHome, type UpHome } from "./up-support.ts";

let current: UpHome | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe("up's worker records", () => {
  test("two folders with one name, and a name with other characters: app, app-2, My-App", async () => {
    const { home } = await openUpHome();
    current = home;
    const one = home.project(join("one", "app"));
    const two = home.project(join("two", "app"));
    const odd = home.project("My App!");
    const up = await home.startUp("binary", [one, two, odd], home.root);
    await up.waitFor(/3 workers: 3 ready/, { stream: "stderr", timeoutMs: 90_000 });
    const records = JSON.parse(readFileSync(join(home.configDir, "local-workers.json"), "utf8")).workers as { folder: string; name: string }[];
    expect(Object.fromEntries(records.map((r) => [r.folder, r.name]))).toEqual({ [one]: "app", [two]: "app-2", [odd]: "My-App" });
    for (const name of ["app", "app-2", "My-App"]) expect(up.stderr).toContain(`chat --worker ${name} "your prompt"`);
    up.kill("SIGINT");
    expect((await up.exited).code).toBe(0);
  }, 180_000);

  test("a damaged local-workers.json → exit 78 naming the file and the fix, before anything starts", async () => {
    const { home } = await openUpHome();
    current = home;
    mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
    const file = join(home.configDir, "local-workers.json");
    writeFileSync(file, "{ not json", { mode: 0o600 });
    const r = await home.cli("binary", ["up"], { cwd: home.project("app") });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain("is not valid JSON");
    expect(r.stderr).toContain("delete it");
    expect(r.stderr).not.toContain("    at ");
    expect(readFileSync(file, "utf8")).toBe("{ not json");
    expect(existsSync(join(home.dataDir, "runtime.json"))).toBe(false);
  }, 180_000);
});
