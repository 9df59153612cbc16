// Builds both deliverables from src/index.ts:
//   dist/opencode-orchestrator  standalone executable (bun build --compile)
//   dist/cli.mjs                self-contained Node ESM bundle (node >= 20)
// Run with `npm run build` (bun is a devDependency, so npm/pnpm users have it too).
import { chmodSync, mkdirSync, rmSync } from "node:fs";

const entry = "src/index.ts";
rmSync("dist", { recursive: true, force: true });
mkdirSync("dist", { recursive: true });

function check(result: Awaited<ReturnType<typeof Bun.build>>, what: string) {
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    console.error(`build failed: ${what}`);
    process.exit(1);
  }
}

const binary = await Bun.build({
  entrypoints: [entry],
  minify: true,
  sourcemap: "none",
  bytecode: true,
  format: "esm",
  compile: {
    outfile: "dist/opencode-orchestrator",
    // A user's project .env or bunfig.toml must never change how the orchestrator behaves.
    autoloadDotenv: false,
    autoloadBunfig: false,
  },
});
check(binary, "dist/opencode-orchestrator");

const node = await Bun.build({
  entrypoints: [entry],
  target: "node",
  format: "esm",
  minify: false,
  outdir: "dist",
  naming: "cli.mjs",
});
check(node, "dist/cli.mjs");
chmodSync("dist/cli.mjs", 0o755);
console.error("built dist/opencode-orchestrator and dist/cli.mjs");
