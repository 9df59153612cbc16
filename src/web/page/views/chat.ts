// One session: the prompts, the answers as they stream, cancel, and the composer.
import { h, type ComponentChild } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { ChatMessageView } from "../../../backend/api.ts";
import { api } from "../api.ts";
import { go } from "../route.ts";
import { saveSession } from "../saved-sessions.ts";
import { isRunning, type SessionState } from "../session-state.ts";
import { PartView, answerParts } from "./parts.ts";

const STATUS_TEXT: Record<string, string> = {
  queued: "waiting for the worker…",
  running: "answering…",
  failed: "failed",
  cancelled: "cancelled",
  interrupted: "interrupted",
};

function Message({ m, worker, onError }: { m: ChatMessageView; worker: string; onError: (e: string) => void }): ComponentChild {
  if (m.role === "user") return h("div", { class: "msg user", "data-message": m.messageId }, h("div", { class: "prompt" }, m.text));
  const status = m.status ?? "queued";
  const note = STATUS_TEXT[status];
  return h(
    "div",
    { class: `msg assistant ${status}`, "data-message": m.messageId, "data-status": status },
    answerParts(m).map((p, i) => h(PartView, { key: i, part: p })),
    note ? h("div", { class: "status-line" }, m.reason && !m.reason.startsWith(note) ? `${note}: ${m.reason}` : (m.reason ?? note)) : null,
    isRunning(m)
      ? h("button", { class: "cancel", onClick: () => api.cancel(m.messageId, worker).catch((e: Error) => onError(e.message)) }, "Cancel")
      : null,
  );
}

function Composer(p: { disabled: boolean; onSend: (text: string) => Promise<void> }): ComponentChild {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const send = () => {
    if (text.trim() === "" || busy) return;
    setBusy(true);
    p.onSend(text).then(
      () => {
        setText("");
        setBusy(false);
      },
      () => setBusy(false),
    );
  };
  return h(
    "form",
    { class: "composer", onSubmit: (e: Event) => (e.preventDefault(), send()) },
    h("textarea", {
      name: "prompt",
      rows: 3,
      placeholder: "Ask the worker… (Enter sends, Shift+Enter for a new line)",
      value: text,
      disabled: p.disabled,
      onInput: (e: Event) => setText((e.target as HTMLTextAreaElement).value),
      onKeyDown: (e: KeyboardEvent) => {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          send();
        }
      },
    }),
    h("button", { class: "primary", type: "submit", disabled: p.disabled || busy || text.trim() === "" }, "Send"),
  );
}

export function Chat(p: { worker: string; session?: string; state: SessionState; canSend: boolean; onError: (m: string) => void }): ComponentChild {
  const list = useRef<HTMLDivElement>(null);
  const count = p.state.messages.length;
  const lastLen = p.state.messages[count - 1]?.text.length ?? 0;
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [count, lastLen]);
  const onSend = async (text: string) => {
    try {
      if (p.session) {
        await api.send(p.session, p.worker, text);
      } else {
        const s = await api.newSession(p.worker, text);
        saveSession(p.worker, { id: s.sessionId, title: s.title, at: Date.now() });
        go({ worker: p.worker, session: s.sessionId });
      }
    } catch (e) {
      p.onError((e as Error).message);
      throw e;
    }
  };
  return h(
    "section",
    { class: "chat" },
    h(
      "div",
      { class: "messages", ref: list },
      count === 0 ? h("p", { class: "muted" }, p.session ? "Loading…" : "A new session: its first prompt becomes its title.") : null,
      p.state.messages.map((m) => h(Message, { key: m.messageId, m, worker: p.worker, onError: p.onError })),
    ),
    h(Composer, { disabled: !p.canSend, onSend }),
  );
}
