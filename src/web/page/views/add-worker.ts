// Adding a worker: the token is shown once, with the lines that put it to use.
import { h, type ComponentChild } from "preact";
import { useState } from "preact/hooks";
import { api, type AddedWorker } from "../api.ts";

function CopyField({ label, value }: { label: string; value: string }): ComponentChild {
  const [copied, setCopied] = useState(false);
  const copy = () =>
    navigator.clipboard.writeText(value).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  return h(
    "div",
    { class: "copy-field" },
    h("label", null, label),
    h("pre", null, h("code", null, value)),
    h("button", { onClick: copy }, copied ? "Copied" : "Copy"),
  );
}

export function AddWorker({ onError }: { onError: (m: string) => void }): ComponentChild {
  const [machine, setMachine] = useState("");
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [made, setMade] = useState<AddedWorker | null>(null);
  if (made) {
    const entry = { name: made.name, token: made.token, working_directory: "/path/to/project", convex_url: made.convexUrl };
    const json = JSON.stringify({ workers: [entry] }, null, 2);
    return h(
      "section",
      { class: "panel add-worker" },
      h("h2", null, `Worker "${made.name}" created`),
      h("p", { class: "warn-text" }, "This token is shown only now. It is pending until you approve it."),
      h(CopyField, { label: "Token", value: made.token }),
      h(CopyField, { label: "For .env (dev)", value: `WORKER_TOKEN=${made.token}\nCONVEX_URL=${made.convexUrl}` }),
      h(CopyField, { label: "For workers.json (orchestrate)", value: json }),
      h("a", { href: `#/w/${encodeURIComponent(made.workerId)}` }, "Done"),
    );
  }
  const submit = (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    api.addWorker(machine, name).then(setMade, (e: Error) => onError(e.message)).finally(() => setBusy(false));
  };
  return h(
    "section",
    { class: "panel add-worker" },
    h("h2", null, "Add a worker"),
    h(
      "form",
      { onSubmit: submit },
      h("label", null, "Machine", h("input", { name: "machine", required: true, value: machine, onInput: (e: Event) => setMachine((e.target as HTMLInputElement).value) })),
      h("label", null, "Worker name (optional)", h("input", { name: "name", value: name, onInput: (e: Event) => setName((e.target as HTMLInputElement).value) })),
      h("button", { class: "primary", type: "submit", disabled: busy }, "Create"),
    ),
  );
}
