import { mkdtempSync } from "node:fs";
import { join } from "node:path";

/** A fresh folder under this run's private temp root. */
export function tempDir(prefix = "t-"): string {
  const root = process.env.OCO_TEST_ROOT;
  if (!root) throw new Error("test/support/preload.ts did not run");
  return mkdtempSync(join(root, prefix));
}
