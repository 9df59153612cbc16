// The sandbox plan and its two renderings (bwrap argv, macOS profile) as data: mount order,
// what is hidden, escaping. No processes here; test/agent/sandbox.test.ts runs the real thing.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildPlan, bwrapArgs, detectSandbox, seatbeltProfile, type SandboxRequest } from "../../src/agent/sandbox/index.ts";
import { tempDir } from "../support/tmp.ts";

function fixture() {
  const root = tempDir("plan-");
  const home = join(root, "home");
  const env = { HOME: home, XDG_CONFIG_HOME: join(home, "cfg"), XDG_DATA_HOME: join(home, "data"), XDG_STATE_HOME: join(home, "state"), XDG_CACHE_HOME: join(home, "cache") };
  const project = join(root, "project");
  const other = join(root, "other");
  const ours = join(env.XDG_CONFIG_HOME, "opencode-orchestrator");
  for (const d of [project, other, ours, ...["data", "cache", "state", "cfg"].map((x) => join(home, x, "opencode"))]) mkdirSync(d, { recursive: true });
  writeFileSync(join(project, ".env"), "WORKER_TOKEN=x\n");
  const request: SandboxRequest = {
    worker: "w1",
    settings: { mode: "on", network: true, hide: [join(root, "missing")], writable: [] },
    secrets: [ours, join(project, ".env"), other, project],
  };
  return { root, env, project, other, ours, request };
}

/** `git worktree add` as git lays it out: the worktree's .git file, and the repository's link back to it. */
function linkWorktree(repoGit: string, worktree: string): void {
  const admin = join(repoGit, "worktrees", "wt");
  mkdirSync(admin, { recursive: true });
  mkdirSync(join(repoGit, "objects"), { recursive: true });
  writeFileSync(join(repoGit, "HEAD"), "ref: refs/heads/main\n");
  mkdirSync(worktree, { recursive: true });
  writeFileSync(join(worktree, ".git"), `gitdir: ${admin}\n`);
  writeFileSync(join(admin, "commondir"), "../..\n");
  writeFileSync(join(admin, "gitdir"), `${join(worktree, ".git")}\n`);
}

describe("sandbox plan", () => {
  test("hides existing secrets (folders and files), never the worker's own folder, skips missing paths", () => {
    const f = fixture();
    const plan = buildPlan(f.project, f.request, f.env);
    expect(plan.hidden).toEqual(
      expect.arrayContaining([
        { path: f.ours, kind: "dir" },
        { path: f.other, kind: "dir" },
        { path: join(f.project, ".env"), kind: "file" },
      ]),
    );
    expect(plan.hidden.map((h) => h.path)).not.toContain(f.project);
    expect(plan.hidden.map((h) => h.path)).not.toContain(join(f.root, "missing"));
    expect(plan.writable[0]).toBe(f.project);
    expect(plan.writable).toContain(join(f.env.XDG_DATA_HOME, "opencode"));
  });

  test("bwrap: read-only root first, hidden paths before the writable folders, secrets inside them after", () => {
    const f = fixture();
    const args = bwrapArgs({ ...buildPlan(f.project, f.request, f.env), tmp: "/nonexistent-tmp" });
    const at = (...seq: string[]) => args.findIndex((_, i) => seq.every((s, j) => args[i + j] === s));
    expect(args.slice(0, 5)).toEqual(["--die-with-parent", "--unshare-pid", "--unshare-ipc", "--cap-drop", "ALL"]);
    expect(at("--ro-bind", "/", "/")).toBeGreaterThan(0);
    expect(at("--proc", "/proc")).toBeGreaterThan(at("--ro-bind", "/", "/"));
    const hideOther = at("--tmpfs", f.other);
    const bindProject = at("--bind", f.project, f.project);
    const hideEnv = at("--ro-bind", "/dev/null", join(f.project, ".env"));
    expect(hideOther).toBeGreaterThan(0);
    expect(bindProject).toBeGreaterThan(hideOther);
    expect(hideEnv).toBeGreaterThan(bindProject);
    expect(args).not.toContain("--unshare-net");
    expect(args).not.toContain("--new-session"); // would take the agent out of our process group
    expect(args.slice(-2)).toEqual(["--chdir", f.project]);
  });

  test("bwrap: paths under the private /tmp need no mount of their own", () => {
    const f = fixture();
    const args = bwrapArgs({ ...buildPlan(f.project, f.request, f.env), tmp: f.root });
    expect(args).toContain("--tmpfs");
    expect(args).not.toContain(f.other);
    expect(args).toContain(f.project);
  });

  test("macOS profile: writes only where allowed, hidden paths denied, other processes out of reach; strings escaped", () => {
    const f = fixture();
    const plan = buildPlan(f.project, f.request, f.env);
    const profile = seatbeltProfile({ ...plan, hidden: [...plan.hidden, { path: '/x/a"b\\c', kind: "file" }] }, ["/private/tmp"]);
    expect(profile.startsWith("(version 1)\n(allow default)\n")).toBe(true);
    expect(profile).toContain("(deny file-write*)");
    expect(profile).toContain(`(subpath "${f.project}")`);
    expect(profile).toContain('(subpath "/private/tmp")');
    expect(profile).toContain(`(deny file-read* file-write* `);
    expect(profile).toContain(`(subpath "${f.other}")`);
    expect(profile).toContain(`(literal "${join(f.project, ".env")}")`);
    expect(profile).toContain('(literal "/x/a\\"b\\\\c")');
    expect(profile).toContain("(deny process-info*)");
    expect(profile).not.toContain("(deny network*)");
    expect(seatbeltProfile({ ...plan, network: false }, [])).toContain("(deny network*)");
  });

  test("a git worktree whose repository lies in another worker's folder: that repository's .git is writable over the hidden folder", () => {
    const f = fixture();
    const repoGit = join(f.other, ".git");
    const worktree = join(f.root, "worktree");
    linkWorktree(repoGit, worktree);
    const plan = buildPlan(worktree, f.request, f.env);
    expect(plan.writable.slice(0, 2)).toEqual([worktree, repoGit]);
    expect(plan.hidden).toContainEqual({ path: f.other, kind: "dir" });
    const args = bwrapArgs({ ...plan, tmp: "/nonexistent-tmp" });
    const at = (...seq: string[]) => args.findIndex((_, i) => seq.every((s, j) => args[i + j] === s));
    expect(at("--tmpfs", f.other)).toBeGreaterThan(0);
    expect(at("--bind", repoGit, repoGit)).toBeGreaterThan(at("--tmpfs", f.other));
    const profile = seatbeltProfile(plan, []);
    expect(profile.lastIndexOf(`(subpath "${repoGit}")`)).toBeGreaterThan(profile.indexOf(`(subpath "${f.other}")`));
    // A plain repository or a folder without git adds nothing.
    expect(buildPlan(f.project, f.request, f.env).writable).not.toContain(join(f.project, ".git"));
  });

  test("a .git file the agent wrote is not believed: no back-link from the repository, or a repository the agent could write into", () => {
    const f = fixture();
    const worktree = join(f.root, "worktree");
    mkdirSync(worktree);
    const writableOf = () => buildPlan(worktree, f.request, f.env).writable;
    // Pointing straight at the orchestrator's config, or at another worker's real repository that
    // does not list this folder as its worktree: nothing is opened.
    writeFileSync(join(worktree, ".git"), `gitdir: ${f.ours}\n`);
    expect(writableOf()).not.toContain(f.ours);
    const repoGit = join(f.other, ".git");
    linkWorktree(repoGit, join(f.root, "someone-else"));
    writeFileSync(join(worktree, ".git"), `gitdir: ${join(repoGit, "worktrees", "wt")}\n`);
    expect(writableOf()).not.toContain(repoGit);
    // A back-link the agent could have written itself: its own folder is named "worktrees" and the
    // "repository" would be the folder above it (holding another worker's folder).
    const trap = join(f.root, "worktrees");
    mkdirSync(join(trap, "x"), { recursive: true });
    writeFileSync(join(f.root, "HEAD"), "ref: refs/heads/main\n");
    mkdirSync(join(f.root, "objects"));
    writeFileSync(join(trap, ".git"), `gitdir: ${join(trap, "x")}\n`);
    writeFileSync(join(trap, "x", "commondir"), "../..\n");
    writeFileSync(join(trap, "x", "gitdir"), `${join(trap, ".git")}\n`);
    expect(buildPlan(trap, f.request, f.env).writable).not.toContain(f.root);
  });
});

describe("sandbox detection", () => {
  test("Linux without bwrap on PATH: not available, with the package to install", () => {
    const r = detectSandbox({ PATH: tempDir("empty-path-") }, "linux");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.fix).toContain("apt-get install bubblewrap");
  });

  test("a bwrap that cannot build a sandbox counts as absent, with its reason", () => {
    const dir = tempDir("fake-bwrap-");
    writeFileSync(join(dir, "bwrap"), "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n", { mode: 0o755 });
    const r = detectSandbox({ PATH: dir }, "linux");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain("No permissions to creating new namespace");
  });

  test("other systems: off, with the reason", () => {
    const r = detectSandbox({ PATH: "/usr/bin" }, "win32");
    expect(r.ok).toBe(false);
  });
});
