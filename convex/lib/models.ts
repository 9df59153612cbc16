// Which model a prompt runs with: `provider/model` as OpenCode names it (the model id may hold
// more slashes: `openrouter/anthropic/claude-x`), checked against the models its worker
// published (workers:publishModels), so a typo is refused before the prompt is queued.
import { fail } from "./errors";
import type { Doc } from "./server";

/** Models named in an "unknown model" error; the rest are counted. */
const LISTED_MODELS = 30;

export function modelKey(m: { providerId: string; modelId: string }): string {
  return `${m.providerId}/${m.modelId}`;
}

/** The model as stored with the message; throws INVALID naming the fix when the worker lacks it. */
export function checkModel(worker: Doc<"workers">, model: string): string {
  const wanted = model.trim();
  if (!/^[^/\s]+\/\S+$/.test(wanted)) {
    fail("INVALID", `The model must be written provider/model (e.g. anthropic/claude-sonnet-4), got "${wanted.slice(0, 200)}".`);
  }
  if (worker.models.length === 0) {
    fail(
      "INVALID",
      `Worker "${worker.name}" has not published its models yet (it lists them when it starts, and again when OpenCode starts); ` +
        "try again once it is running, or leave out the model to use its default.",
    );
  }
  const keys = worker.models.map(modelKey);
  if (!keys.includes(wanted)) {
    const shown = keys.slice(0, LISTED_MODELS).join(", ");
    const more = keys.length > LISTED_MODELS ? ` and ${keys.length - LISTED_MODELS} more` : "";
    fail("INVALID", `Worker "${worker.name}" has no model "${wanted}". Its models: ${shown}${more}.`, { models: keys.join("\n") });
  }
  return wanted;
}
