// Prompt helpers on @clack/prompts. Prompts draw on stderr (stdout is for command output),
// validate each answer before accepting it, and turn Ctrl+C into a Cancelled error so the
// caller writes nothing and src/index.ts exits quietly.
import { intro, isCancel, log, note, outro, password, text } from "@clack/prompts";
import type { Readable, Writable } from "node:stream";
import type { AnswerCheck, Prompter } from "../../config/prompter.ts";
import { Cancelled } from "../../util/errors.ts";

export type PromptIo = { input?: Readable; output?: Writable };

export type { AnswerCheck, Prompter } from "../../config/prompter.ts";

function answer(value: string | symbol): string {
  if (isCancel(value) || typeof value !== "string") throw new Cancelled();
  return value;
}

export function createPrompter(io: PromptIo = {}): Prompter {
  const common = { input: io.input ?? process.stdin, output: io.output ?? process.stderr };
  const validate = (check: AnswerCheck) => (value: string | undefined) => check((value ?? "").trim());
  return {
    intro: (title) => intro(title, common),
    note: (message, title) => note(message, title, common),
    info: (message) => log.info(message, common),
    secret: async ({ message, check }) => answer(await password({ ...common, message, validate: validate(check), clearOnError: true })).trim(),
    text: async ({ message, placeholder, initial, check }) =>
      answer(await text({ ...common, message, placeholder, initialValue: initial, validate: validate(check) })).trim(),
    outro: (message) => outro(message, common),
  };
}
