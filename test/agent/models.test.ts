// `opencode models --verbose` output as the worker reads it (src/agent/models.ts): a
// `provider/model` line, then the model as pretty-printed JSON; ids may hold more slashes.
import { expect, test } from "bun:test";
import { parseModelList } from "../../src/agent/models.ts";

test("verbose listing: ids split at the first slash, names from the JSON", () => {
  const block = (id: string, m: Record<string, unknown>) => `${id}\n${JSON.stringify(m, null, 2)}\n`;
  const out =
    block("stub/stub-model", { id: "stub-model", name: "Stub Model", cost: { input: 0 } }) +
    block("openrouter/anthropic/claude-x", { id: "anthropic/claude-x", name: "Claude X", options: { nested: { deep: true } } }) +
    block("local/no-name", { id: "no-name" });
  expect(parseModelList(out)).toEqual([
    { providerId: "stub", modelId: "stub-model", name: "Stub Model" },
    { providerId: "openrouter", modelId: "anthropic/claude-x", name: "Claude X" },
    { providerId: "local", modelId: "no-name", name: "no-name" },
  ]);
});

test("plain listing (no JSON) and noise: ids alone, named by their id; blank and odd lines skipped", () => {
  expect(parseModelList("stub/a\n\nwarning: something odd\nstub/b\n")).toEqual([
    { providerId: "stub", modelId: "a", name: "a" },
    { providerId: "stub", modelId: "b", name: "b" },
  ]);
});

test("a JSON block cut short ends the list without throwing", () => {
  expect(parseModelList('stub/a\n{\n  "name": "A"\n}\nstub/b\n{\n  "name": "B"')).toEqual([{ providerId: "stub", modelId: "a", name: "A" }]);
});
