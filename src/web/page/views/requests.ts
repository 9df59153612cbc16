// Permission requests and questions the agent raised in an answer, answered with buttons.
// A pending one waits for a person; an ended one says how it ended.
import { h, type ComponentChild } from "preact";
import { useState } from "preact/hooks";
import type { RequestQuestion, RequestReply, RequestView } from "../../../backend/api.ts";
import { api } from "../api.ts";

type Answer = (reply: RequestReply, extra?: { message?: string; answers?: string[][] }) => void;

function outcome(r: RequestView): string {
  if (r.status === "expired") return `expired${r.reason ? `: ${r.reason}` : ""}`;
  if (r.kind === "question" && r.status === "answered") return `answered: ${(r.answers ?? []).map((a) => a.join(", ")).join("; ")}`;
  if (r.kind === "budget") return r.reply === "reject" ? "stopped" : "continued";
  const how = r.reply === "always" ? "allowed always" : r.reply === "once" ? "allowed once" : "rejected";
  return `${how}${r.message ? ` — “${r.message}”` : ""}${r.reason ? ` (${r.reason})` : ""}`;
}

function PermissionButtons({ r, answer }: { r: RequestView; answer: Answer }): ComponentChild {
  const [note, setNote] = useState("");
  const budget = r.kind === "budget";
  return h(
    "div",
    { class: "request-actions" },
    h("button", { class: "primary", onClick: () => answer("once") }, budget ? "Continue" : "Allow once"),
    budget ? null : h("button", { onClick: () => answer("always") }, "Always allow"),
    h("input", { class: "reject-note", placeholder: "Why not (optional, told to the agent)", value: note, onInput: (e: Event) => setNote((e.target as HTMLInputElement).value) }),
    h("button", { class: "danger", onClick: () => answer("reject", note.trim() ? { message: note.trim() } : {}) }, budget ? "Stop" : "Reject"),
  );
}

function QuestionForm({ questions, answer }: { questions: RequestQuestion[]; answer: Answer }): ComponentChild {
  const [picked, setPicked] = useState<string[][]>(questions.map(() => []));
  const toggle = (qi: number, label: string, multiple: boolean) =>
    setPicked((all) => all.map((p, i) => (i !== qi ? p : multiple ? (p.includes(label) ? p.filter((x) => x !== label) : [...p, label]) : [label])));
  return h(
    "div",
    { class: "questions" },
    questions.map((q, qi) =>
      h(
        "fieldset",
        { key: qi, class: "q-item" },
        h("legend", null, q.header || q.question),
        q.header ? h("p", null, q.question) : null,
        q.options.map((o) =>
          h(
            "button",
            { key: o.label, class: `option${picked[qi]!.includes(o.label) ? " picked" : ""}`, "aria-pressed": picked[qi]!.includes(o.label), title: o.description, onClick: () => toggle(qi, o.label, q.multiple ?? false) },
            o.label,
          ),
        ),
      ),
    ),
    h(
      "div",
      { class: "request-actions" },
      h("button", { class: "primary", disabled: picked.some((p) => p.length === 0), onClick: () => answer("once", { answers: picked }) }, "Answer"),
      h("button", { class: "danger", onClick: () => answer("reject") }, "Dismiss"),
    ),
  );
}

export function RequestCard({ r, worker, onError }: { r: RequestView; worker: string; onError: (m: string) => void }): ComponentChild {
  const [busy, setBusy] = useState(false);
  const answer: Answer = (reply, extra = {}) => {
    setBusy(true);
    api.reply(r.requestId, worker, reply, extra).catch((e: Error) => onError(e.message)).finally(() => setBusy(false));
  };
  const pending = r.status === "pending";
  return h(
    "div",
    { class: `request ${r.kind} ${r.status}`, "data-request": r.requestId, "data-status": r.status, "aria-busy": busy },
    h("div", { class: "request-title" }, h("span", { class: "label" }, r.kind === "question" ? "question" : r.kind === "budget" ? "budget" : "permission"), " ", r.title),
    r.detail ? h("pre", { class: "request-detail" }, r.detail) : null,
    r.patterns?.length ? h("div", { class: "muted" }, r.patterns.join(", ")) : null,
    !pending
      ? h("div", { class: "request-outcome" }, outcome(r))
      : r.kind === "question"
        ? h(QuestionForm, { questions: r.questions ?? [], answer })
        : h(PermissionButtons, { r, answer }),
  );
}
