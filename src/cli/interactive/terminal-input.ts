// The keyboard of an interactive chat. At a prompt, node:readline does the line editing
// (cursor keys, history, Ctrl+U/W, paste); while an answer runs only Ctrl+C is listened for, so
// typed keys neither echo into the streaming answer nor turn into a process signal (src/index.ts
// counts SIGINTs and exits on the 3rd: a session lives through many cancelled answers). The
// terminal stays in raw mode for the whole session — readline turns it off when a prompt closes
// and it is turned on again at once — so a key pressed between two prompts (Ctrl+D right after
// an answer) waits for the next prompt instead of reaching the terminal's own line discipline.
import { createInterface, type Interface } from "node:readline";

export type LineResult =
  | { kind: "line"; text: string }
  /** Ctrl+D on an empty line, or the terminal went away. */
  | { kind: "eof" }
  /** Ctrl+C; `typed`: the line had text (which is dropped, as shells do). */
  | { kind: "interrupt"; typed: boolean }
  /** closeLine() was called (the prompt is no longer needed). */
  | { kind: "closed" };

/** What is remembered for the up arrow; older lines are dropped. */
const HISTORY_SIZE = 200;

type Tty = NodeJS.ReadStream & { setRawMode?(raw: boolean): unknown };

export type TerminalInput = ReturnType<typeof terminalInput>;

/** One session's keyboard: the open prompt, if any, and the running answer's Ctrl+C listener. */
type Keyboard = {
  stdin: Tty;
  stdout: NodeJS.WriteStream;
  history: string[];
  line: { rl: Interface; finish: (r: LineResult) => void } | null;
  interrupts: ((count: number) => void) | null;
  /** Ctrl+C presses since the listener was set. */
  count: number;
};

export function terminalInput(stdin: Tty, stdout: NodeJS.WriteStream) {
  const k: Keyboard = { stdin, stdout, history: [], line: null, interrupts: null, count: 0 };

  stdin.setRawMode?.(true);
  const onData = (d: Buffer) => {
    // Raw mode: Ctrl+C arrives as byte 0x03 (ETX). A line prompt handles its own keys.
    if (k.line || !k.interrupts || !d.includes(3)) return;
    k.interrupts(++k.count);
  };

  return {
    /**
     * Reads one line after `prompt`. Entered lines go into the history unless `remember` is
     * false (answers to a permission request are not worth recalling).
     */
    readLine(prompt: string, remember = true): Promise<LineResult> {
      if (k.line) k.line.finish({ kind: "closed" });
      return new Promise<LineResult>((resolve) => openLine(k, prompt, remember, resolve));
    },
    /** Ends a pending readLine with `closed` (the question it asked was answered elsewhere). */
    closeLine(): void {
      k.line?.finish({ kind: "closed" });
    },
    /**
     * Ctrl+C presses while no line is read, counted from 1, until the returned function is
     * called. One listener at a time: the running answer's.
     */
    onInterrupt(handler: (count: number) => void): () => void {
      k.interrupts = handler;
      k.count = 0;
      stdin.on("data", onData);
      stdin.resume();
      return () => {
        if (k.interrupts !== handler) return;
        k.interrupts = null;
        stdin.off("data", onData);
        // Keys pressed from now on wait in the terminal for the next prompt.
        stdin.pause();
      };
    },
    /** Leaves the terminal as it was found. */
    close(): void {
      k.line?.finish({ kind: "closed" });
      k.interrupts = null;
      stdin.off("data", onData);
      stdin.setRawMode?.(false);
      stdin.pause();
    },
  };
}

/** A readline prompt for one line; `resolve` gets how it ended, once. */
function openLine(k: Keyboard, prompt: string, remember: boolean, resolve: (r: LineResult) => void): void {
  const { stdin, stdout, history } = k;
  const rl = createInterface({ input: stdin, output: stdout, terminal: true, history: [...history], historySize: HISTORY_SIZE, prompt });
  let done = false;
  const finish = (r: LineResult) => {
    if (done) return;
    done = true;
    k.line = null;
    rl.close();
    stdin.setRawMode?.(true);
    // Enter and Ctrl+C end the line themselves; a closed prompt leaves the cursor after it.
    if (r.kind === "closed" || r.kind === "eof") stdout.write("\n");
    // A running answer (a permission prompt was asked) still listens for Ctrl+C.
    if (k.interrupts) stdin.resume();
    resolve(r);
  };
  k.line = { rl, finish };
  // Pasted text arrives as several lines at once: they make one prompt together.
  const pasted: string[] = [];
  rl.on("line", (text) => {
    pasted.push(text);
    if (pasted.length > 1) return;
    setImmediate(() => {
      const all = pasted.join("\n");
      if (remember && all.trim() !== "" && history[0] !== all) history.unshift(all);
      history.length = Math.min(history.length, HISTORY_SIZE);
      finish({ kind: "line", text: all });
    });
  });
  rl.on("SIGINT", () => {
    // What was typed stays visible with a ^C after it, as in a shell.
    stdout.write("^C\n");
    // During an answer (a permission prompt), Ctrl+C is still the answer's.
    if (k.interrupts) k.interrupts(++k.count);
    finish({ kind: "interrupt", typed: rl.line !== "" });
  });
  rl.on("close", () => finish({ kind: "eof" }));
  rl.prompt();
}
