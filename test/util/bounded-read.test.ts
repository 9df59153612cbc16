// The bounded reader on real files of every kind: the checks run on what the path is, and
// the cap is exact.
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { BoundedReadError, formatBytes, readBoundedText, type BoundedReadFailure } from "../../src/util/bounded-read.ts";
import { tempDir } from "../support/tmp.ts";

async function failure(path: string, max = 100): Promise<BoundedReadFailure> {
  const e = await readBoundedText(path, max).catch((x) => x);
  if (!(e instanceof BoundedReadError)) throw new Error(`expected a BoundedReadError, got ${e}`);
  return e.failure;
}

describe("readBoundedText", () => {
  test("a regular file up to the cap, exactly; a leading BOM dropped", async () => {
    const dir = tempDir("br-");
    writeFileSync(join(dir, "at-cap"), "\uFEFF" + "x".repeat(97)); // 3 + 97 bytes
    expect(await readBoundedText(join(dir, "at-cap"), 100)).toBe("x".repeat(97));
    writeFileSync(join(dir, "over"), "x".repeat(101));
    expect(await failure(join(dir, "over"))).toEqual({ reason: "too-large", maxBytes: 100 });
    writeFileSync(join(dir, "empty"), "");
    expect(await readBoundedText(join(dir, "empty"), 100)).toBe("");
  });

  test("FIFO, device, folder, socket, missing: refused by kind, through a symlink too", async () => {
    const dir = tempDir("br-");
    execFileSync("mkfifo", [join(dir, "fifo")]);
    symlinkSync(join(dir, "fifo"), join(dir, "link-to-fifo"));
    expect(await failure(join(dir, "fifo"))).toEqual({ reason: "not-regular", kind: "fifo" });
    expect(await failure(join(dir, "link-to-fifo"))).toEqual({ reason: "not-regular", kind: "fifo" });
    expect(await failure("/dev/zero")).toEqual({ reason: "not-regular", kind: "device" });
    expect(await failure(dir)).toEqual({ reason: "not-regular", kind: "folder" });
    expect(await failure(join(dir, "nope"))).toEqual({ reason: "missing" });
    expect(await failure(join(dir, "fifo", "below"))).toEqual({ reason: "missing" });
    const sock = join(dir, "sock");
    const server = createServer().listen(sock);
    await new Promise((r) => server.once("listening", r));
    try {
      expect(await failure(sock)).toEqual({ reason: "not-regular", kind: "socket" });
    } finally {
      server.close();
    }
  });

  test("caps as people read them", () => {
    expect(formatBytes(1024 * 1024)).toBe("1 MiB");
    expect(formatBytes(16 * 1024)).toBe("16 KiB");
    expect(formatBytes(1000)).toBe("1000 bytes");
  });
});
