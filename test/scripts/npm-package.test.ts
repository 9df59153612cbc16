// The npm package as a user gets it: `npm pack` (prepack builds the Node bundle), then an
// install from the tarball with no registry access, whose bin must run under Node.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../support/cli.ts";
import { run } from "../support/proc.ts";
import { tempDir } from "../support/tmp.ts";

const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
// The Node the engines field names as the lowest, installed from the npm registry as the `node`
// devDependency (the machine's own Node may be another version).
const LOWEST_NODE = join(REPO, "node_modules/node/bin/node");
let installedBin: string | undefined;

describe("npm package", () => {
  test("installs offline with no runtime dependency and its bin runs --version under Node", async () => {
    const dest = tempDir("pack-");
    const packed = await run("npm", ["pack", "--json", "--pack-destination", dest], { cwd: REPO, timeoutMs: 240_000 });
    expect(packed.code).toBe(0);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("[")));
    const files = (info.files as { path: string }[]).map((f) => f.path).sort();
    expect(files).toEqual(["README.md", "dist/cli.mjs", "package.json"]);

    const prefix = tempDir("prefix-");
    const installed = await run(
      "npm",
      ["install", "--global", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", join(dest, info.filename)],
      { timeoutMs: 120_000 },
    );
    expect(installed.stderr).not.toContain("ERR");
    expect(installed.code).toBe(0);
    const root = join(prefix, "lib/node_modules", pkg.name);
    expect(existsSync(join(root, "node_modules")) ? readdirSync(join(root, "node_modules")) : []).toEqual([]);
    expect(readFileSync(join(root, "dist/cli.mjs"), "utf8")).not.toContain(REPO);

    installedBin = join(root, "dist/cli.mjs");
    const version = await run(join(prefix, "bin/opencode-orchestrator"), ["--version"]);
    expect(version.stderr).toBe("");
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(new RegExp(`^${pkg.version.replace(/\./g, "\\.")} \\(commit [0-9a-f]{12}(-dirty)?\\)\\n$`));
  }, 300_000);

  test.skipIf(!existsSync(LOWEST_NODE))("the installed bin runs on the lowest Node that engines declares", async () => {
    const v = await run(LOWEST_NODE, ["--version"]);
    const [major, minor] = v.stdout.trim().replace(/^v/, "").split(".").map(Number);
    const [wantMajor, wantMinor] = String(pkg.engines.node).replace(/^>=\s*/, "").split(".").map(Number);
    expect(major).toBe(wantMajor!);
    expect(minor!).toBeGreaterThanOrEqual(wantMinor ?? 0);
    expect(installedBin).toBeDefined();
    const r = await run(LOWEST_NODE, [installedBin!, "--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(`${pkg.version} (commit `);
  });

  test("runtime packages are devDependencies: the bundle inlines them", () => {
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.private).toBe(true);
    expect(pkg.bin).toEqual({ "opencode-orchestrator": "dist/cli.mjs" });
  });
});

describe("build info", () => {
  test("a build outside git says so instead of naming a commit", async () => {
    const dir = tempDir("nogit-");
    const script = `import { buildCommit } from ${JSON.stringify(join(REPO, "scripts/build-options.ts"))}; console.log(buildCommit());`;
    const r = await run(process.execPath, ["-e", script], { cwd: dir, env: { GIT_CEILING_DIRECTORIES: dir } });
    expect(r.stdout.trim()).toBe("unknown (built outside git)");
  });
});
