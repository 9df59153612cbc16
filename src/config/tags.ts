// Worker tags (workers.json `tags`, dev's WORKER_TAGS, `chat --tag`): short labels sessions are
// routed by. The alphabet and limits are the backend's (convex/lib/constants.ts), so a tag the
// config accepts is one the backend accepts.
import { MAX_TAG_CHARS, MAX_TAGS, TAG_PATTERN } from "../../convex/lib/constants.ts";

export const TAG_RULE = `letters, digits, ".", "_" and "-" (at most ${MAX_TAG_CHARS}, not starting with "." or "-"); at most ${MAX_TAGS} tags`;

export type TagCheck = { ok: true; value: string[] } | { ok: false; message: string; fix: string };

/** Tags as written → trimmed and deduplicated (first spelling kept), or what is wrong and the fix. */
export function checkTagList(tags: readonly string[]): TagCheck {
  const value = [...new Set(tags.map((t) => t.trim()))];
  const fix = `Use short labels such as "api" or "linux": ${TAG_RULE}.`;
  const bad = value.find((t) => !TAG_PATTERN.test(t));
  if (bad !== undefined) {
    const shown = bad === "" ? "an empty tag" : `the tag "${bad.length > 40 ? `${bad.slice(0, 37)}...` : bad}"`;
    return { ok: false, message: `${shown} may only use ${TAG_RULE.split(";")[0]}`, fix };
  }
  if (value.length > MAX_TAGS) return { ok: false, message: `has ${value.length} tags; at most ${MAX_TAGS} are allowed`, fix };
  return { ok: true, value };
}

/** WORKER_TAGS: comma-separated ("api, linux"); empty items are ignored. */
export function parseTagsText(text: string): TagCheck {
  return checkTagList(text.split(",").filter((t) => t.trim() !== ""));
}
