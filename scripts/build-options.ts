// What every build of src/index.ts shares: the host build (scripts/build.ts) and the release
// builds (scripts/release.ts) must embed the same facts and exclude the same things.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { BunPlugin } from "bun";

export const ENTRY = "src/index.ts";

function git(args: string[]): string | undefined {
  const r = spawnSync("git", args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The commit to embed; says so when the tree differs from it or is not a git checkout. */
export function buildCommit(): string {
  const head = git(["rev-parse", "--short=12", "HEAD"]);
  if (!head) return "unknown (built outside git)";
  const dirty = git(["status", "--porcelain", "--untracked-files=no"]);
  return dirty ? `${head}-dirty` : head;
}

export function defines(commit: string): Record<string, string> {
  return { __OO_BUILD_COMMIT__: JSON.stringify(commit) };
}

/**
 * Options for one standalone executable. Bytecode only when building for this machine:
 * Bun cannot produce it for another target.
 */
export function executableBuild(opts: { outfile: string; commit: string; page: BunPlugin; target?: Bun.Build.CompileTarget }): Bun.BuildConfig {
  return {
    entrypoints: [ENTRY],
    minify: true,
    sourcemap: "none",
    bytecode: opts.target === undefined,
    format: "esm",
    define: defines(opts.commit),
    plugins: [noNativeAddons, opts.page],
    compile: {
      outfile: opts.outfile,
      ...(opts.target ? { target: opts.target } : {}),
      // A user's project .env or bunfig.toml must never change how the orchestrator behaves.
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
  };
}

// ws (inside convex's pre-bundled Node client) asks node-gyp-build for the optional native
// addons bufferutil/utf-8-validate with `__dirname`, which Bun replaces by the absolute folder
// on the build machine. The bundle then carried our path and, on a user's machine, would load
// any `.node` file found under that path. ws falls back to plain JS when the addon is missing,
// so make that lookup fail at once.
const NATIVE_LOOKUP = /require_node_gyp_build\d*\(\)\(__dirname\)/g;
export const noNativeAddons: BunPlugin = {
  name: "no-native-addons",
  setup(build) {
    build.onLoad({ filter: /node_modules[\\/]convex[\\/]dist[\\/].*\.js$/ }, async (args) => {
      const text = await Bun.file(args.path).text();
      const contents = text.replace(NATIVE_LOOKUP, '(() => { throw new Error("native addons are not bundled"); })()');
      return { contents, loader: "js" };
    });
  },
};

/** Fails the build when an output embeds the folder it was built in. */
export async function assertNoBuildPath(file: string): Promise<void> {
  const root = process.cwd();
  const bytes = new Uint8Array(await Bun.file(file).arrayBuffer());
  const needle = new TextEncoder().encode(root);
  if (Buffer.from(bytes).indexOf(needle) !== -1) {
    throw new Error(`${file} embeds the build folder ${root}; find the module that inlines a path and exclude it`);
  }
}

/**
 * The web page (src/web/page), bundled for the browser and carried inside every build as
 * strings in place of src/web/embedded-assets.ts: nothing next to the executable, nothing
 * fetched at run time. Returns the plugin that does the swap and the script's size.
 */
export async function embedWebPage(): Promise<{ plugin: BunPlugin; scriptBytes: number }> {
  const page = await Bun.build({ entrypoints: ["src/web/page/main.ts"], target: "browser", format: "esm", minify: true, sourcemap: "none" });
  if (!page.success) {
    for (const log of page.logs) console.error(log);
    throw new Error("the web page (src/web/page) did not build");
  }
  const script = await page.outputs[0]!.text();
  const assets = {
    "/": { type: "text/html; charset=utf-8", body: readFileSync("src/web/page/index.html", "utf8") },
    "/app.js": { type: "text/javascript; charset=utf-8", body: script },
    "/app.css": { type: "text/css; charset=utf-8", body: readFileSync("src/web/page/style.css", "utf8") },
  };
  const plugin: BunPlugin = {
    name: "embed-web-page",
    setup(build) {
      build.onLoad({ filter: /src[\\/]web[\\/]embedded-assets\.ts$/ }, () => ({
        contents: `export const EMBEDDED_ASSETS = ${JSON.stringify(assets)};`,
        loader: "ts",
      }));
    },
  };
  return { plugin, scriptBytes: script.length };
}
