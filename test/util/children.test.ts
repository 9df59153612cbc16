// What the exit paths of src/index.ts rely on: every child still registered is stopped — gently,
// then for sure — and the stop resolves only once its whole process group is gone, including a
// member that ignores SIGTERM (as bwrap's pid-namespace init does). Real processes.
import { afterEach, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { killAllChildrenNow, stopAllChildren, trackChild } from "../../src/util/children.ts";
import { pidAlive } from "../../src/util/process-group.ts";

afterEach(() => void killAllChildrenNow());

/** A process group: a leader that `leaderIgnoresTerm` or not, and a member that ignores SIGTERM. */
async function group(leaderIgnoresTerm: boolean): Promise<{ leader: number; member: number }> {
  const member = `sh -c 'trap "" TERM; echo member $$; exec sleep 600' &`;
  const leader = `${leaderIgnoresTerm ? `trap "" TERM; ` : ""}${member} exec sleep 600`;
  const child = spawn("sh", ["-c", leader], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
  const pid = await new Promise<number>((res) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /member (\d+)/.exec(out);
      if (m) res(Number(m[1]));
    });
  });
  trackChild(child.pid!, { group: true, label: `group ${child.pid}` });
  return { leader: child.pid!, member: pid };
}

test("a group whose leader ends on SIGTERM: its member that ignores SIGTERM is gone too when the stop resolves", async () => {
  const g = await group(false);
  expect(await stopAllChildren(60_000)).toEqual([`group ${g.leader}`]);
  expect(pidAlive(g.leader)).toBe(false);
  expect(pidAlive(g.member)).toBe(false);
  // Nothing is registered any more.
  expect(await stopAllChildren()).toEqual([]);
});

test("a group that ignores SIGTERM altogether is killed after the grace period", async () => {
  const g = await group(true);
  expect(await stopAllChildren(100)).toEqual([`group ${g.leader}`]);
  expect(pidAlive(g.leader)).toBe(false);
  expect(pidAlive(g.member)).toBe(false);
});
