// Which model a prompt runs with: `provider/model` as OpenCode names it (the model id may hold
// more slashes: `openrouter/anthropic/claude-x`), checked against the models its worker
// published (workers:publishModels), so a typo is refused before the prompt is queued.
import { fail } from "./errors";
import { hasTags } from "./routing";
import type { Doc } from "./server";

/** Models named in an "unknown model" error; the rest are counted. */
const LISTED_MODELS = 30;

export function modelKey(m: { providerId: string; modelId: string }): string {
  return `${m.providerId}/${m.modelId}`;
}

/** The model as stored with the message; throws INVALID naming the fix when the worker lacks it. */
export function checkModel(worker: Doc<"workers">, model: string): string {
  const owner = `Worker "${worker.name}"`;
  return checkModelIn(worker.models, model, { none: `${owner} has not published its models yet`, missing: `${owner} has no model`, listed: "Its models" });
}

/**
 * A routed session that waits for a worker: the model must be one that some worker with every
 * tag published, so a typo is still refused before the prompt is queued.
 */
export function checkModelForTags(workers: Doc<"workers">[], tags: readonly string[], model: string): string {
  const models = workers.filter((w) => hasTags(w, tags)).flatMap((w) => w.models);
  const owner = `No worker tagged ${tags.join(", ")}`;
  return checkModelIn(models, model, { none: `${owner} has published models yet`, missing: `${owner} has the model`, listed: "Their models" });
}

type ModelWords = { none: string; missing: string; listed: string };

function checkModelIn(models: Doc<"workers">["models"], model: string, words: ModelWords): string {
  const wanted = model.trim();
  if (!/^[^/\s]+\/\S+$/.test(wanted)) {
    fail("INVALID", `The model must be written provider/model (e.g. anthropic/claude-sonnet-4), got "${wanted.slice(0, 200)}".`);
  }
  if (models.length === 0) {
    fail(
      "INVALID",
      `${words.none} (a worker lists them when it starts, and again when OpenCode starts); ` +
        "try again once it is running, or leave out the model to use its default.",
    );
  }
  const keys = [...new Set(models.map(modelKey))];
  if (!keys.includes(wanted)) {
    const shown = keys.slice(0, LISTED_MODELS).join(", ");
    const more = keys.length > LISTED_MODELS ? ` and ${keys.length - LISTED_MODELS} more` : "";
    fail("INVALID", `${words.missing} "${wanted}". ${words.listed}: ${shown}${more}.`, { models: keys.join("\n") });
  }
  return wanted;
}
