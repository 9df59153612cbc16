// Builds both deliverables from src/index.ts:
//   dist/opencode-orchestrator  standalone executable (bun build --compile)
//   dist/cli.mjs                self-contained Node ESM bundle (node >= 20)
// Run with `npm run build` (bun is a devDependency, so npm/pnpm users have it too).
// The web page (src/web/page) is bundled first and carried inside both, as strings in
// place of src/web/embedded-assets.ts: nothing next to the executable, nothing fetched.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import type { BunPlugin } from "bun";

const entry = "src/index.ts";
// Build into a scratch folder and move the results into dist/ at the end, so a test run
// that uses dist/ while someone rebuilds never sees a missing or half-written file.
const out = `dist/.build-${process.pid}`;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

function check(result: Awaited<ReturnType<typeof Bun.build>>, what: string) {
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    console.error(`build failed: ${what}`);
    rmSync(out, { recursive: true, force: true });
    process.exit(1);
  }
}

const page = await Bun.build({
  entrypoints: ["src/web/page/main.ts"],
  target: "browser",
  format: "esm",
  minify: true,
  sourcemap: "none",
});
check(page, "web page (src/web/page)");
const pageAssets = {
  "/": { type: "text/html; charset=utf-8", body: readFileSync("src/web/page/index.html", "utf8") },
  "/app.js": { type: "text/javascript; charset=utf-8", body: await page.outputs[0]!.text() },
  "/app.css": { type: "text/css; charset=utf-8", body: readFileSync("src/web/page/style.css", "utf8") },
};
const embedPage: BunPlugin = {
  name: "embed-web-page",
  setup(build) {
    build.onLoad({ filter: /src[\\/]web[\\/]embedded-assets\.ts$/ }, () => ({
      contents: `export const EMBEDDED_ASSETS = ${JSON.stringify(pageAssets)};`,
      loader: "ts",
    }));
  },
};

const binary = await Bun.build({
  entrypoints: [entry],
  plugins: [embedPage],
  minify: true,
  sourcemap: "none",
  bytecode: true,
  format: "esm",
  compile: {
    outfile: `${out}/opencode-orchestrator`,
    // A user's project .env or bunfig.toml must never change how the orchestrator behaves.
    autoloadDotenv: false,
    autoloadBunfig: false,
  },
});
check(binary, "dist/opencode-orchestrator");

const node = await Bun.build({
  entrypoints: [entry],
  plugins: [embedPage],
  target: "node",
  format: "esm",
  minify: false,
  outdir: out,
  naming: "cli.mjs",
});
check(node, "dist/cli.mjs");
chmodSync(`${out}/cli.mjs`, 0o755);
renameSync(`${out}/opencode-orchestrator`, "dist/opencode-orchestrator");
renameSync(`${out}/cli.mjs`, "dist/cli.mjs");
rmSync(out, { recursive: true, force: true });
console.error(`built dist/opencode-orchestrator and dist/cli.mjs (web page: ${Math.round(pageAssets["/app.js"].body.length / 1024)} KiB script)`);
