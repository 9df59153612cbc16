// The platforms a release ships, defined once: scripts/release.ts builds them and
// scripts/install.sh picks among the same file names (test/scripts/install.test.ts checks both agree).
//
// No Windows build: stopping a worker's OpenCode tree relies on POSIX process groups
// (src/util/process-group.ts). Windows has none, so a stopped worker could leave agents running
// with the person's code and credentials; shipping that would be worse than shipping nothing.
export const RELEASE_TARGETS = [
  { file: "opencode-orchestrator-linux-x64", target: "bun-linux-x64" },
  // For x86-64 CPUs without AVX2 (older or virtual ones), as OpenCode and Bun ship it.
  { file: "opencode-orchestrator-linux-x64-baseline", target: "bun-linux-x64-baseline" },
  { file: "opencode-orchestrator-linux-arm64", target: "bun-linux-arm64" },
  { file: "opencode-orchestrator-darwin-x64", target: "bun-darwin-x64" },
  { file: "opencode-orchestrator-darwin-arm64", target: "bun-darwin-arm64" },
] as const satisfies readonly { file: string; target: Bun.Build.CompileTarget }[];

export const CHECKSUMS_FILE = "SHA256SUMS";

/** The line `sha256sum -c` reads: hex digest, two spaces (text mode), file name. */
export function checksumLine(sha256Hex: string, file: string): string {
  return `${sha256Hex}  ${file}\n`;
}
