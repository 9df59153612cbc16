// `npm run release`: standalone executables for every platform of scripts/release-targets.ts
// plus SHA256SUMS, into dist/release/. Bun fetches each target's runtime from the npm registry
// once and keeps it in ~/.bun/install/cache, so later releases build offline.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { arch, platform } from "node:os";
import { join } from "node:path";
import { assertNoBuildPath, buildCommit, embedWebPage, executableBuild } from "./build-options.ts";
import { CHECKSUMS_FILE, checksumLine, RELEASE_TARGETS } from "./release-targets.ts";

const dest = "dist/release";
// Everything is built aside and moved into place at the end: a failed release leaves the
// previous dist/release/ as it was, never a folder whose SHA256SUMS lists missing files.
const scratch = `dist/.release-${process.pid}`;
rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });
const commit = buildCommit();

function fail(message: string): never {
  console.error(`release failed: ${message}`);
  rmSync(scratch, { recursive: true, force: true });
  process.exit(1);
}

const hostTarget = `bun-${platform()}-${arch()}`;
const page = await embedWebPage().catch((e: Error) => fail(e.message));
let sums = "";
for (const { file, target } of RELEASE_TARGETS) {
  const outfile = join(scratch, file);
  console.error(`building ${file} (${target})`);
  // The host's own runtime needs no download and can carry bytecode (faster start).
  const result = await Bun.build(executableBuild({ outfile, commit, page: page.plugin, target: target === hostTarget ? undefined : target }));
  if (!result.success || !existsSync(outfile)) {
    for (const log of result.logs) console.error(log);
    fail(
      `${target}: Bun could not build it. Cross-building downloads the target's runtime from the npm registry ` +
        "(cached in ~/.bun/install/cache); check that the registry is reachable, then run `npm run release` again.",
    );
  }
  await assertNoBuildPath(outfile).catch((e: Error) => fail(e.message));
  sums += checksumLine(createHash("sha256").update(readFileSync(outfile)).digest("hex"), file);
}
// The installer travels with the release, so `sh install.sh <this folder or its URL>` works
// from a download; it is checksummed like the rest.
copyFileSync("scripts/install.sh", join(scratch, "install.sh"));
sums += checksumLine(createHash("sha256").update(readFileSync(join(scratch, "install.sh"))).digest("hex"), "install.sh");
writeFileSync(join(scratch, CHECKSUMS_FILE), sums);

// The build for this machine must at least start and name its commit.
const own = RELEASE_TARGETS.find((t) => t.target === hostTarget);
if (own) {
  const r = spawnSync(join(scratch, own.file), ["--version"], { encoding: "utf8" });
  if (r.status !== 0 || !r.stdout.includes(commit)) fail(`${own.file} --version did not run: ${r.stderr || r.stdout}`);
}

rmSync(dest, { recursive: true, force: true });
renameSync(scratch, dest);
console.error(`built ${RELEASE_TARGETS.length} executables, install.sh and ${CHECKSUMS_FILE} into ${dest}/ (commit ${commit})`);
console.error("Windows is not built: a worker's OpenCode process tree cannot be stopped reliably there (no process groups).");
