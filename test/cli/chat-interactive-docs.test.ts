// The README's table of the interactive chat's commands lists exactly the ones it has.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SLASH_COMMANDS } from "../../src/cli/interactive/commands.ts";
import { REPO } from "../support/cli.ts";

test("README's interactive chat section names every slash command, and no other", () => {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### Interactive chat"), readme.indexOf("\n## ", readme.indexOf("### Interactive chat")));
  const documented = [...section.matchAll(/`(\/[a-z]+)/g)].map((m) => m[1]).sort();
  expect([...new Set(documented)]).toEqual(SLASH_COMMANDS.map((c) => c.name).sort());
});
