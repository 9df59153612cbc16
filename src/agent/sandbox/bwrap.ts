// The bubblewrap command line for a plan. Mounts apply in order, later ones on top, so:
// read-only root → private /tmp and hidden paths → writable folders → hidden paths inside
// writable folders (a token file or .env inside the project). No --new-session: the agent
// must stay in our process group so one signal stops it all; it has no terminal to abuse
// (it is started in a session of its own with no controlling tty).
import { isInside, type SandboxPlan } from "./plan.ts";

function hideArgs(h: { path: string; kind: "dir" | "file" }): string[] {
  // A device node on bwrap's nodev bind cannot be opened: reading the file fails outright.
  return h.kind === "dir" ? ["--tmpfs", h.path] : ["--ro-bind", "/dev/null", h.path];
}

export function bwrapArgs(plan: SandboxPlan): string[] {
  const underWritable = (p: string) => plan.writable.some((w) => isInside(p, w) && p !== w);
  const underTmp = (p: string) => isInside(p, plan.tmp);
  const args = [
    "--die-with-parent",
    "--unshare-pid",
    "--unshare-ipc",
    // Root inside would otherwise keep CAP_SYS_ADMIN and could unmount what hides our files.
    "--cap-drop",
    "ALL",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--tmpfs",
    plan.tmp,
  ];
  if (!plan.network) args.push("--unshare-net");
  // Hidden paths under /tmp are already gone with the private /tmp, unless re-exposed below.
  for (const h of plan.hidden) if (!underWritable(h.path) && !underTmp(h.path)) args.push(...hideArgs(h));
  // The executable must stay runnable where the private /tmp or a hidden folder covered it.
  const covered = (p: string) => underTmp(p) || plan.hidden.some((h) => isInside(p, h.path));
  for (const r of plan.readable ?? []) if (covered(r)) args.push("--ro-bind", r, r);
  const byDepth = [...plan.writable].sort((a, b) => a.split("/").length - b.split("/").length);
  for (const w of byDepth) args.push("--bind", w, w);
  for (const h of plan.hidden) if (underWritable(h.path)) args.push(...hideArgs(h));
  args.push("--chdir", plan.directory);
  return args;
}
