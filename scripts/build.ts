// Builds both deliverables from src/index.ts for this machine:
//   dist/opencode-orchestrator  standalone executable (bun build --compile)
//   dist/cli.mjs                self-contained Node ESM bundle (what the npm package ships)
// Run with `npm run build` (bun is a devDependency, so npm/pnpm users have it too).
// The web page (src/web/page) is bundled first and carried inside both (build-options.ts).
import { chmodSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { assertNoBuildPath, buildCommit, defines, embedWebPage, ENTRY, executableBuild, noNativeAddons } from "./build-options.ts";

// Build into a scratch folder and move the results into dist/ at the end, so a test run
// that uses dist/ while someone rebuilds never sees a missing or half-written file.
const out = `dist/.build-${process.pid}`;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const commit = buildCommit();
const nodeOnly = process.argv.includes("--node-only");

function check(result: Awaited<ReturnType<typeof Bun.build>>, what: string) {
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    console.error(`build failed: ${what}`);
    rmSync(out, { recursive: true, force: true });
    process.exit(1);
  }
}

let page: Awaited<ReturnType<typeof embedWebPage>>;
try {
  page = await embedWebPage();
} catch (e) {
  console.error(`build failed: ${(e as Error).message}`);
  rmSync(out, { recursive: true, force: true });
  process.exit(1);
}

const binary = nodeOnly ? undefined : await Bun.build(executableBuild({ outfile: `${out}/opencode-orchestrator`, commit, page: page.plugin }));
if (binary) check(binary, "dist/opencode-orchestrator");

const node = await Bun.build({
  entrypoints: [ENTRY],
  target: "node",
  format: "esm",
  minify: false,
  define: defines(commit),
  plugins: [noNativeAddons, page.plugin],
  outdir: out,
  naming: "cli.mjs",
});
check(node, "dist/cli.mjs");
try {
  await assertNoBuildPath(`${out}/cli.mjs`);
  if (binary) await assertNoBuildPath(`${out}/opencode-orchestrator`);
} catch (e) {
  console.error(`build failed: ${(e as Error).message}`);
  rmSync(out, { recursive: true, force: true });
  process.exit(1);
}
chmodSync(`${out}/cli.mjs`, 0o755);
if (binary) renameSync(`${out}/opencode-orchestrator`, "dist/opencode-orchestrator");
renameSync(`${out}/cli.mjs`, "dist/cli.mjs");
rmSync(out, { recursive: true, force: true });
const built = binary ? "dist/opencode-orchestrator and dist/cli.mjs" : "dist/cli.mjs";
console.error(`built ${built} (web page: ${Math.round(page.scriptBytes / 1024)} KiB script)`);
