// Secret hashing must agree with a reference implementation: a worker's secret is hashed when
// it is created (in an action) and again whenever its token is checked (queries, mutations).
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { constantTimeEqual, sha256Hex } from "../../convex/lib/sha256.ts";
import { randomId, randomSecret } from "../../convex/lib/random.ts";

const reference = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

describe("sha256Hex", () => {
  test("matches the FIPS 180-4 test vectors", async () => {
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  test("matches node:crypto at every padding boundary and for non-ASCII text", async () => {
    for (let n = 0; n <= 130; n++) expect(await sha256Hex("x".repeat(n))).toBe(reference("x".repeat(n)));
    for (const s of ["héllo wörld", "日本語のテキスト", "emoji 🚀🔥", "a".repeat(10_000)]) expect(await sha256Hex(s)).toBe(reference(s));
  });

  test("hashes random secrets like node:crypto", async () => {
    for (const s of [randomSecret(), randomSecret()]) expect(await sha256Hex(s)).toBe(reference(s));
  });
});

describe("constantTimeEqual", () => {
  test("equal only for identical strings", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "ab")).toBe(false);
    expect(constantTimeEqual("ab", "abc")).toBe(false);
    expect(constantTimeEqual("", "a")).toBe(false);
    // Past the shorter string charCodeAt gives NaN, read as 0: a trailing NUL must still differ.
    expect(constantTimeEqual("ab\u0000", "ab")).toBe(false);
  });
});

describe("random ids and secrets", () => {
  test("ids fit the token alphabet and do not repeat", () => {
    const ids = new Set(Array.from({ length: 500 }, () => randomId()));
    expect(ids.size).toBe(500);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]{12}$/);
  });

  test("secrets carry 256 bits as base64url", () => {
    const secrets = new Set(Array.from({ length: 200 }, () => randomSecret()));
    expect(secrets.size).toBe(200);
    for (const s of secrets) expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
