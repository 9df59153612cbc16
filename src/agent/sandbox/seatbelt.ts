// The macOS sandbox-exec (Seatbelt) profile for a plan: the same rules as bubblewrap —
// writes only to the worker's folder, temp and OpenCode's folders; our files unreadable;
// other processes' details (environment, arguments) out of reach.
import { isInside, type SandboxPlan } from "./plan.ts";

/** A string literal in the profile language (Scheme-like: backslash and quote escaped). */
export function sbString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function seatbeltProfile(plan: SandboxPlan, tmpDirs: string[]): string {
  const match = (p: { path: string; kind: "dir" | "file" }) => (p.kind === "dir" ? `(subpath ${sbString(p.path)})` : `(literal ${sbString(p.path)})`);
  const lines = [
    "(version 1)",
    "(allow default)",
    ";; read-only everywhere but the worker's own folders",
    "(deny file-write*)",
    `(allow file-write* ${[...plan.writable, ...tmpDirs].map((w) => `(subpath ${sbString(w)})`).join(" ")} (literal "/dev/null") (literal "/dev/tty") (regex #"^/dev/fd/"))`,
  ];
  if (plan.hidden.length) {
    lines.push(";; the orchestrator's config, tokens, data and the other workers' folders");
    lines.push(`(deny file-read* file-write* ${plan.hidden.map(match).join(" ")})`);
    // The last matching rule wins: a writable folder inside a hidden one (a worktree's repository
    // in another worker's folder) is opened again, as bwrap mounts it over the hidden folder.
    const reopened = plan.writable.filter((w) => plan.hidden.some((h) => h.kind === "dir" && isInside(w, h.path) && w !== h.path));
    if (reopened.length) lines.push(`(allow file-read* file-write* ${reopened.map((w) => `(subpath ${sbString(w)})`).join(" ")})`);
  }
  lines.push(";; no other process's environment or arguments");
  lines.push("(deny process-info*)", "(allow process-info* (target same-sandbox))");
  if (!plan.network) {
    lines.push(";; no network but loopback (our connection to OpenCode's port)");
    lines.push("(deny network*)", '(allow network* (local ip "localhost:*") (remote ip "localhost:*"))');
  }
  return lines.join("\n") + "\n";
}

export function sandboxExecArgs(plan: SandboxPlan, tmpDirs: string[]): string[] {
  return ["-p", seatbeltProfile(plan, tmpDirs)];
}
