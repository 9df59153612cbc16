// `completion SHELL` from the real CLI, loaded into the real shells: what a user gets on TAB.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS } from "../../src/cli/command-table.ts";
import { runCli } from "../support/cli.ts";
import { run } from "../support/proc.ts";
import { tempDir } from "../support/tmp.ts";

const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const PROGRAM = "opencode-orchestrator";
const scripts: Record<string, string> = {};

beforeAll(async () => {
  const dir = tempDir("completion-");
  for (const shell of ["bash", "zsh", "fish"]) {
    const r = await runCli("binary", ["completion", shell]);
    expect(r.code).toBe(0);
    scripts[shell] = join(dir, `completion.${shell}`);
    writeFileSync(scripts[shell]!, r.stdout);
  }
});

/** What bash offers for the words typed so far (the last one is being completed). */
async function bash(line: string[], cwd?: string): Promise<string[]> {
  const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _opencode_orchestrator; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = await run("bash", ["-c", script, "bash", scripts.bash!, PROGRAM, ...line], { cwd });
  expect(r.code).toBe(0);
  return r.stdout.split("\n").filter(Boolean).sort();
}

async function fish(line: string): Promise<string[]> {
  const r = await run("fish", ["--no-config", "-c", `source ${scripts.fish}; complete -C '${PROGRAM} ${line}'`]);
  expect(r.stderr).toBe("");
  return r.stdout.split("\n").filter(Boolean).map((l) => l.split("\t")[0]!).sort();
}

describe.skipIf(!has("bash"))("bash completion", () => {
  test("every command of the table, and help/--help/--version", async () => {
    const names = COMMANDS.filter((c) => !c.hidden).map((c) => c.name);
    expect(names).toContain("service");
    expect(await bash([""])).toEqual([...names, "help", "--help", "--version"].sort());
    expect(await bash(["se"])).toEqual(["service"]);
  });

  test("flags of the command, and the allowed values of a flag", async () => {
    expect(await bash(["service", "install", "--d"])).toEqual(["--dry-run"]);
    expect(await bash(["orchestrate", "--"])).toEqual(["--config", "--help", "--log-format", "--log-level", "--status-address"]);
    expect(await bash(["orchestrate", "--log-format", ""])).toEqual(["json", "text"]);
    expect(await bash(["dev", "--log-format", "j"])).toEqual(["json"]);
  });

  test("subcommands as the first argument only, skipping flag values", async () => {
    expect(await bash(["service", ""])).toEqual(["install", "status", "uninstall"]);
    expect(await bash(["completion", ""])).toEqual(["bash", "fish", "zsh"]);
    expect(await bash(["admin", "--machine", "m1", "ap"])).toEqual(["approve"]);
    expect(await bash(["admin", "approve", ""])).toEqual([]);
    expect(await bash(["help", "orch"])).toEqual(["orchestrate"]);
  });

  test("a PATH flag completes file names", async () => {
    const dir = tempDir("files-");
    writeFileSync(join(dir, "workers.json"), "{}");
    mkdirSync(join(dir, "other"));
    expect(await bash(["validate", "--config", "wor"], dir)).toEqual(["workers.json"]);
  });
});

describe.skipIf(!has("fish"))("fish completion", () => {
  test("commands, flags, values and subcommands", async () => {
    expect(await fish("se")).toEqual(["service"]);
    expect(await fish("service ")).toEqual(["install", "status", "uninstall"]);
    expect(await fish("service install --d")).toEqual(["--dry-run"]);
    expect(await fish("orchestrate --log-format ")).toEqual(["json", "text"]);
  });
});

// zsh completes only inside its line editor: drive an interactive zsh in a pseudo-terminal
// (zsh/zpty), press TAB, and record what the completion system would add (compadd).
const ZSH_CAPTURE = `
zmodload zsh/zpty
script=$1; shift
zpty z zsh -f -i
zpty -w z "PROMPT=''; autoload -U compinit; compinit -u -d \${script:h}/.zcompdump; source \$script"
zpty -w z 'bindkey "^I" complete-word; null-line () { print -n -- "\\x00" }; compprefuncs=( null-line ); comppostfuncs=( null-line exit )'
zpty -w z 'zstyle ":completion:*" list-grouped false; zstyle ":completion:*" insert-tab false; zstyle ":completion:*" matcher-list ""'
zpty -w z 'compadd () { if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd "\$@"; return \$?; fi; typeset -a hits; builtin compadd -A hits "\$@"; local h; for h in \$hits; do print -r -- "MATCH:\$h"; done }'
zpty -w z "\$*"\$'\\t'
out=
while zpty -r z line; do out+=\$line; [[ \$out == *\$'\\0'*\$'\\0'* ]] && break; done
zpty -d z
print -r -- "\$out"
`;

async function zsh(line: string): Promise<string[]> {
  const capture = join(tempDir("zsh-"), "capture.zsh");
  writeFileSync(capture, ZSH_CAPTURE);
  const r = await run("zsh", ["-f", capture, scripts.zsh!, `${PROGRAM} ${line}`]);
  expect(r.code).toBe(0);
  const matches = [...r.stdout.matchAll(/MATCH:([^\x00-\x1f]+)/g)].map((m) => m[1]!);
  return [...new Set(matches.filter((m) => !m.startsWith("$h")))].sort();
}

describe.skipIf(!has("zsh"))("zsh completion", () => {
  test("parses and registers with compinit", async () => {
    const script = `autoload -U compinit && compinit -u -d "$1.zcompdump" && source "$1" && print -r -- $_comps[${PROGRAM}]`;
    const r = await run("zsh", ["-f", "-c", script, "zsh", scripts.zsh!]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("_opencode_orchestrator");
  });

  test("commands, flags, values and subcommands on TAB", async () => {
    expect(await zsh("se")).toEqual(["service"]);
    expect(await zsh("service ")).toEqual(["install", "status", "uninstall"]);
    expect(await zsh("service install --d")).toEqual(["--dry-run"]);
    expect(await zsh("orchestrate --log-format ")).toEqual(["json", "text"]);
    expect(await zsh("admin --machine m1 ap")).toEqual(["approve"]);
  });
});

test("an unknown shell is a usage error", async () => {
  const r = await runCli("binary", ["completion", "tcsh"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('unknown shell "tcsh": use bash, zsh, fish');
});
