import { describe, expect, test } from "bun:test";
import { formatEnvLine, parseEnvText, updateEnvText } from "../../src/config/env-file.ts";

describe(".env parsing", () => {
  test("comments, export, quotes, inline comments, no expansion", () => {
    const { values, invalidLines } = parseEnvText(
      [
        "# a comment",
        "",
        "PLAIN=abc",
        "export EXPORTED=yes",
        "SPACED = padded value  ",
        "INLINE=value # comment",
        "HASH=a#b",
        `DOUBLE="x # not a comment\\n2"`,
        "SINGLE='$HOME \\n raw'",
        "BACKTICK=`tick`",
        "EMPTY=",
        "EXPAND=$PLAIN",
        "not an assignment",
        "URL=https://a.convex.cloud",
      ].join("\n"),
    );
    expect(Object.fromEntries(values)).toEqual({
      PLAIN: "abc",
      EXPORTED: "yes",
      SPACED: "padded value",
      INLINE: "value",
      HASH: "a#b",
      DOUBLE: "x # not a comment\n2",
      SINGLE: "$HOME \\n raw",
      BACKTICK: "tick",
      EMPTY: "",
      EXPAND: "$PLAIN",
      URL: "https://a.convex.cloud",
    });
    expect(invalidLines).toEqual([12]);
  });

  test("multi-line quoted values and CRLF files", () => {
    const { values, entries } = parseEnvText('KEY="line1\nline2"\r\nNEXT=1\r\n');
    expect(values.get("KEY")).toBe("line1\nline2");
    expect(values.get("NEXT")).toBe("1");
    expect(entries[0]).toMatchObject({ startLine: 0, endLine: 1 });
  });

  test("the last assignment wins", () => {
    expect(parseEnvText("A=1\nA=2\n").values.get("A")).toBe("2");
  });
});

describe(".env updating", () => {
  test("keeps every other line, replaces in place, appends new keys", () => {
    const before = "# project settings\nexport DATABASE_URL=postgres://x\nCONVEX_URL=https://old.convex.cloud # old\n\nOTHER='keep me'\n";
    const after = updateEnvText(before, { CONVEX_URL: "https://new.convex.cloud", WORKER_TOKEN: "machine_a:worker_b:secret_c" });
    expect(after).toBe(
      "# project settings\nexport DATABASE_URL=postgres://x\nCONVEX_URL=https://new.convex.cloud\n\nOTHER='keep me'\nWORKER_TOKEN=machine_a:worker_b:secret_c\n",
    );
  });

  test("keeps `export`, replaces a multi-line value, handles no final newline and CRLF", () => {
    expect(updateEnvText('export A="x\ny"\nB=1', { A: "z" })).toBe("export A=z\nB=1\n");
    expect(updateEnvText("B=1\r\nC=2\r\n", { A: "n" })).toBe("B=1\r\nC=2\r\nA=n\r\n");
    expect(updateEnvText("", { A: "1" })).toBe("A=1\n");
  });

  test("values that need quoting round-trip", () => {
    for (const v of ["plain", "with space", 'quo"te', "hash # x", "back\\slash", "multi\nline"]) {
      const text = updateEnvText("", { K: v });
      expect(parseEnvText(text).values.get("K")).toBe(v);
    }
    expect(formatEnvLine("K", "https://x.y:1/p")).toBe("K=https://x.y:1/p");
  });
});
