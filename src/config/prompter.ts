// What config needs from an interactive prompt, so the first-run setup can ask without config
// importing the terminal UI: cli/ui/prompts.ts implements it and cli/dev.ts passes it in.

/** Returns an error message for a bad answer, or undefined to accept it. */
export type AnswerCheck = (value: string) => string | undefined;

export type Prompter = {
  intro(title: string): void;
  note(message: string, title?: string): void;
  info(message: string): void;
  /** Masked input (tokens). */
  secret(opts: { message: string; check: AnswerCheck }): Promise<string>;
  text(opts: { message: string; placeholder?: string; initial?: string; check: AnswerCheck }): Promise<string>;
  outro(message: string): void;
};
