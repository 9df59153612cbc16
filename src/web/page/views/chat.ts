// One session: the prompts, the answers as they stream (text, tools, file changes, todos,
// requests, usage), cancel, and the composer with its model picker.
import { h, type ComponentChild } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { ChatMessageView, TurnPart, WorkerSummary } from "../../../backend/api.ts";
import type { RequestView } from "../../../backend/api.ts";
import { api } from "../api.ts";
import { go } from "../route.ts";
import { isRunning, type SessionState } from "../session-state.ts";
import { answerParts, answerUsage } from "../turn.ts";
import { PartView, UsageLine } from "./parts.ts";
import { RequestCard } from "./requests.ts";

const STATUS_TEXT: Record<string, string> = {
  queued: "waiting for the worker…",
  running: "answering…",
  failed: "failed",
  cancelled: "cancelled",
  interrupted: "interrupted",
};

type MessageProps = {
  m: ChatMessageView;
  parts?: Record<string, TurnPart>;
  requests?: RequestView[];
  worker: string;
  onError: (e: string) => void;
};

function Message({ m, parts, requests, worker, onError }: MessageProps): ComponentChild {
  if (m.role === "user") return h("div", { class: "msg user", "data-message": m.messageId }, h("div", { class: "prompt" }, m.text));
  const status = m.status ?? "queued";
  const note = STATUS_TEXT[status];
  const usage = answerUsage(parts);
  return h(
    "div",
    { class: `msg assistant ${status}`, "data-message": m.messageId, "data-status": status },
    answerParts(m, parts).map((p) => h(PartView, { key: p.key, part: p })),
    (requests ?? []).map((r) => h(RequestCard, { key: r.requestId, r, worker, onError })),
    note ? h("div", { class: "status-line" }, m.reason && !m.reason.startsWith(note) ? `${note}: ${m.reason}` : (m.reason ?? note)) : null,
    usage && !isRunning(m) ? h(UsageLine, { u: usage }) : null,
    isRunning(m)
      ? h("button", { class: "cancel", onClick: () => api.cancel(m.messageId, worker).catch((e: Error) => onError(e.message)) }, "Cancel")
      : null,
  );
}

/** The worker's models as `providerId/modelId`; "" is the worker's default. */
function ModelPicker(p: { w: WorkerSummary; value: string; onChange: (v: string) => void }): ComponentChild {
  if (p.w.models.length === 0) return null;
  return h(
    "select",
    { name: "model", class: "model", title: "Model for this prompt", value: p.value, onChange: (e: Event) => p.onChange((e.target as HTMLSelectElement).value) },
    h("option", { value: "" }, "worker's default model"),
    p.w.models.map((m) => {
      const id = `${m.providerId}/${m.modelId}`;
      return h("option", { key: id, value: id }, m.name && m.name !== m.modelId ? `${m.name} (${id})` : id);
    }),
  );
}

function Composer(p: { w: WorkerSummary; disabled: boolean; onSend: (text: string, model: string) => Promise<void> }): ComponentChild {
  const [text, setText] = useState("");
  const [model, setModel] = useState("");
  const [busy, setBusy] = useState(false);
  const send = () => {
    if (text.trim() === "" || busy) return;
    setBusy(true);
    p.onSend(text, model).then(
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
    h(
      "div",
      { class: "composer-side" },
      h(ModelPicker, { w: p.w, value: model, onChange: setModel }),
      h("button", { class: "primary", type: "submit", disabled: p.disabled || busy || text.trim() === "" }, "Send"),
    ),
  );
}

export function Chat(p: { worker: WorkerSummary; session?: string; state: SessionState; canSend: boolean; onError: (m: string) => void }): ComponentChild {
  const list = useRef<HTMLDivElement>(null);
  const worker = p.worker.workerId;
  const count = p.state.messages.length;
  const lastLen = p.state.messages[count - 1]?.text.length ?? 0;
  const detail = Object.keys(p.state.parts ?? {}).length + Object.keys(p.state.requests ?? {}).length;
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [count, lastLen, detail]);
  const onSend = async (text: string, model: string) => {
    try {
      if (p.session) {
        await api.send(p.session, worker, text, model || undefined);
      } else {
        const s = await api.newSession(worker, text, model || undefined);
        go({ worker, session: s.sessionId });
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
      p.state.messages.map((m) =>
        h(Message, { key: m.messageId, m, parts: p.state.parts?.[m.messageId], requests: p.state.requests?.[m.messageId], worker, onError: p.onError }),
      ),
    ),
    h(Composer, { w: p.worker, disabled: !p.canSend, onSend }),
  );
}
