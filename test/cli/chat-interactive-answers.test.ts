// What a person types at an inline request and what is sent for it (request-answers.ts).
import { describe, expect, test } from "bun:test";
import type { RequestView } from "../../src/backend/api.ts";
import { parseAnswer, promptFor, questionAnswer, questionLines } from "../../src/cli/interactive/request-answers.ts";

const base = { requestId: "req_1", messageId: "m1", status: "pending" as const, createdAt: 0 };
const permission: RequestView = { ...base, kind: "permission", title: "read .env", permission: "read", patterns: [".env"] };
const budget: RequestView = { ...base, kind: "budget", title: "this turn has cost $2 of $1" };
const color = { question: "Which color?", header: "Color", options: [{ label: "red", description: "warm" }, { label: "blue", description: "" }] };
const sizes = { question: "Which sizes?", header: "", options: [{ label: "S", description: "" }, { label: "M", description: "" }, { label: "L", description: "" }], multiple: true };
const question: RequestView = { ...base, kind: "question", title: "Which color?", questions: [color, sizes] };

describe("parseAnswer", () => {
  test("permission: o, a, r with or without a message; anything else is explained", () => {
    expect(parseAnswer(permission, " o ", [])).toEqual({ reply: "once" });
    expect(parseAnswer(permission, "Always", [])).toEqual({ reply: "always" });
    expect(parseAnswer(permission, "r", [])).toEqual({ reply: "reject" });
    expect(parseAnswer(permission, "reject not the secrets, please", [])).toEqual({ reply: "reject", message: "not the secrets, please" });
    expect(parseAnswer(permission, "yes", [])).toHaveProperty("problem");
  });

  test("budget: c continues, s stops", () => {
    expect(parseAnswer(budget, "c", [])).toEqual({ reply: "once" });
    expect(parseAnswer(budget, "stop", [])).toEqual({ reply: "reject" });
    expect(parseAnswer(budget, "r", [])).toHaveProperty("problem");
  });

  test("question: one answer per question, by number or in own words; several numbers only where allowed", () => {
    const answers: string[][] = [];
    expect(parseAnswer(question, "1,2", answers)).toEqual({ problem: "this question takes one option (1-2)" });
    expect(parseAnswer(question, "2", answers)).toEqual({ more: true });
    expect(parseAnswer(question, "1, 3,1", answers)).toEqual({ reply: "once", answers: [["blue"], ["S", "L"]] });
    expect(parseAnswer(question, "teal please", [])).toEqual({ more: true });
    expect(parseAnswer(question, "r too many questions", [])).toEqual({ reply: "reject", message: "too many questions" });
  });

  test("questionAnswer: option numbers pick options only when every number is one; anything else is own words, whole", () => {
    expect(questionAnswer(sizes, " 3 ")).toEqual(["L"]);
    expect(questionAnswer(sizes, "1,3")).toEqual(["S", "L"]);
    // A number that is no option is an answer in its own right ("how many?" → 16), commas and all.
    expect(questionAnswer(sizes, "16")).toEqual(["16"]);
    expect(questionAnswer(sizes, "1,4")).toEqual(["1,4"]);
    expect(questionAnswer(sizes, "0")).toEqual(["0"]);
    // A label holding a comma is never split.
    expect(questionAnswer(sizes, "S, but roomy")).toEqual(["S, but roomy"]);
    expect(questionAnswer({ ...color, options: [] }, "2")).toEqual(["2"]);
    expect(questionAnswer(color, "2,1")).toEqual({ problem: "this question takes one option (1-2)" });
  });

  test("prompts and question lines say what can be typed; agent text is made visible", () => {
    expect(promptFor(permission, 0)).toContain("[o]nce [a]lways [r]eject");
    expect(promptFor(question, 1)).toBe("answer: 1-3 (several: 1,3) or your own words, r rejects: ");
    expect(questionLines({ ...color, question: "Which\u001b[2J color?" })).toEqual(["Color: Which\\x1b[2J color?", "  1. red — warm", "  2. blue"]);
  });
});
