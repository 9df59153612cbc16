// docs/configuration.md states every number's range and default; they come from the one
// definition in the schema (NUMBER_FIELDS), so this test keeps the page from drifting.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEV_NUMBER_ENV, type DevNumberKey } from "../../src/config/env.ts";
import { DEFAULTS } from "../../src/config/types.ts";
import { NUMBER_FIELDS, rangeText, sampleValue, type NumberField } from "../../src/config/workers-schema.ts";
import { workersTemplate } from "../../src/config/workers-template.ts";
import { REPO } from "../support/cli.ts";

const doc = readFileSync(join(REPO, "docs/configuration.md"), "utf8");
const row = (first: string) => doc.split("\n").find((l) => l.startsWith(`| \`${first}\` |`));

describe("docs/configuration.md follows the schema's numbers", () => {
  for (const field of Object.keys(NUMBER_FIELDS) as NumberField[]) {
    test(field, () => {
      const f = NUMBER_FIELDS[field];
      const line = row(field);
      expect(line).toBeDefined();
      expect(line!.toLowerCase()).toContain(rangeText(field).toLowerCase());
      expect(line).toContain(f.default === null ? "No limit by default." : `Default ${f.default}.`);
      const dev = row(DEV_NUMBER_ENV[field as DevNumberKey]);
      expect(dev).toBeDefined();
      expect(dev!.toLowerCase()).toContain(rangeText(field).toLowerCase());
      expect(workersTemplate()).toContain(`"${field}": ${sampleValue(field)},`);
      expect(workersTemplate()).toContain(`${f.min}-${f.max}`);
    });
  }

  test("dev's own default drain deadline", () => {
    expect(row(DEV_NUMBER_ENV.shutdown_timeout)).toContain(`Default ${DEFAULTS.devShutdownTimeoutMs / 1000} in dev mode.`);
  });
});
