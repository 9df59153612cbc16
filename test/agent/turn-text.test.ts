// The text bookkeeping of a turn, as tables: each row is a sequence of steps and the text that
// must have been relayed after them — nothing twice, nothing lost, nothing that is not the answer.
import { describe, expect, test } from "bun:test";
import { createTurnText, type TurnText } from "../../src/agent/turn-text.ts";

type Step =
  | ["type", string, string]
  | ["delta", string, string]
  | ["final", string, string]
  | ["close", string, string]
  | ["snapshot", string, string, boolean];

function play(steps: Step[]): string {
  const t: TurnText = createTurnText();
  let out = "";
  for (const s of steps) {
    if (s[0] === "type") t.noteType(s[1], s[2]);
    else if (s[0] === "delta") out += t.delta(s[1], s[2]);
    else if (s[0] === "final") t.recordFinal(s[1], s[2]);
    else if (s[0] === "close") out += t.close(s[1], s[2]);
    else out += t.snapshot(s[1], s[2], s[3]);
  }
  return out;
}

const rows: { name: string; steps: Step[]; relayed: string }[] = [
  { name: "deltas go out in order", steps: [["delta", "p1", "Hel"], ["delta", "p1", "lo"]], relayed: "Hello" },
  { name: "a part of unknown type is relayed (its type may come later)", steps: [["delta", "p1", "x"]], relayed: "x" },
  { name: "reasoning is not the answer", steps: [["type", "r", "reasoning"], ["delta", "r", "thinking"], ["delta", "p", "answer"]], relayed: "answer" },
  { name: "tool input is not the answer", steps: [["type", "t", "tool"], ["delta", "t", "{\"cmd\":1}"]], relayed: "" },
  { name: "closing fills what the deltas missed", steps: [["delta", "p", "Hel"], ["close", "p", "Hello world"]], relayed: "Hello world" },
  { name: "closing with nothing missing adds nothing", steps: [["delta", "p", "Hello"], ["close", "p", "Hello"]], relayed: "Hello" },
  { name: "deltas after closing are stale", steps: [["close", "p", "Hello"], ["delta", "p", " again"]], relayed: "Hello" },
  { name: "a part never streamed is relayed whole when closed", steps: [["close", "p", "All at once"]], relayed: "All at once" },
  {
    name: "reconnect mid-part: the snapshot fills the gap; later deltas are ignored; the final text finishes it",
    steps: [["delta", "p", "Hel"], ["snapshot", "p", "Hello wo", false], ["delta", "p", "rld"], ["close", "p", "Hello world!"]],
    relayed: "Hello world!",
  },
  {
    name: "reconnect after the part ended: the snapshot closes it",
    steps: [["delta", "p", "Hel"], ["snapshot", "p", "Hello", true], ["delta", "p", "lo"], ["close", "p", "Hello"]],
    relayed: "Hello",
  },
  {
    name: "a final text seen before the snapshot wins over the snapshot's shorter text",
    steps: [["delta", "p", "a"], ["final", "p", "abcdef"], ["snapshot", "p", "abc", false], ["delta", "p", "x"]],
    relayed: "abcdef",
  },
  { name: "a snapshot of a closed part adds nothing", steps: [["close", "p", "done"], ["snapshot", "p", "done and more", true]], relayed: "done" },
  {
    name: "two reconnects in a row relay each character once",
    steps: [["delta", "p", "ab"], ["snapshot", "p", "abcd", false], ["snapshot", "p", "abcdef", false], ["close", "p", "abcdefg"]],
    relayed: "abcdefg",
  },
  {
    name: "parts are independent",
    steps: [["delta", "a", "1"], ["snapshot", "a", "12", false], ["delta", "b", "x"], ["delta", "a", "3"], ["close", "a", "123"], ["delta", "b", "y"]],
    relayed: "12x3y",
  },
];

describe("turn text bookkeeping", () => {
  for (const r of rows) test(r.name, () => expect(play(r.steps)).toBe(r.relayed));

  test("counts what went out per part", () => {
    const t = createTurnText();
    t.delta("p", "abc");
    t.snapshot("p", "abcde", false);
    expect(t.delivered("p")).toBe(5);
    expect(t.isResyncing("p")).toBe(true);
    t.close("p", "abcdef");
    expect(t.isClosed("p")).toBe(true);
    expect(t.isResyncing("p")).toBe(false);
  });
});
