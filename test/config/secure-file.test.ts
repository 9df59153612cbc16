import { describe, expect, test } from "bun:test";
import { chmodSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, lstatSync } from "node:fs";
import { join } from "node:path";
import { ensureSecureDir, writeSecureFile } from "../../src/util/secure-file.ts";
import { tempDir } from "../support/tmp.ts";

describe("secure file writes", () => {
  test("new folders are 0700 (existing ones untouched), the file 0600", () => {
    const root = tempDir("sec-");
    chmodSync(root, 0o755);
    const file = join(root, "a", "b", "secret.txt");
    writeSecureFile(file, "s3cret\n");
    expect(readFileSync(file, "utf8")).toBe("s3cret\n");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, "a")).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, "a", "b")).mode & 0o777).toBe(0o700);
    expect(statSync(root).mode & 0o777).toBe(0o755);
  });

  test("replacing tightens the mode and leaves no temp file behind", () => {
    const root = tempDir("sec-");
    const file = join(root, ".env");
    writeFileSync(file, "old");
    chmodSync(file, 0o644);
    writeSecureFile(file, "new");
    expect(readFileSync(file, "utf8")).toBe("new");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(root)).toEqual([".env"]);
  });

  test("exclusive never replaces an existing file", () => {
    const root = tempDir("sec-");
    const file = join(root, "workers.json");
    writeFileSync(file, "mine");
    expect(() => writeSecureFile(file, "template", { exclusive: true })).toThrow(/EEXIST/);
    expect(readFileSync(file, "utf8")).toBe("mine");
    expect(readdirSync(root)).toEqual(["workers.json"]);
  });

  test("a symlink keeps pointing at the updated file", () => {
    const root = tempDir("sec-");
    const real = join(root, "real.env");
    writeFileSync(real, "A=1");
    symlinkSync(real, join(root, ".env"));
    writeSecureFile(join(root, ".env"), "A=2");
    expect(lstatSync(join(root, ".env")).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, "utf8")).toBe("A=2");
  });

  test("ensureSecureDir is idempotent", () => {
    const root = tempDir("sec-");
    ensureSecureDir(join(root, "x"));
    ensureSecureDir(join(root, "x"));
    expect(statSync(join(root, "x")).mode & 0o777).toBe(0o700);
  });
});
