// Watches workers.json for changes. Editors often replace the file (write + rename), so the
// folder is watched and events for the file's name are debounced into one reload.
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";

export const RELOAD_DEBOUNCE_MS = 300;

export function watchConfigFile(path: string, onChange: () => void, log: Logger): () => void {
  const name = basename(path);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
      if (file !== null && file !== name) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(onChange, RELOAD_DEBOUNCE_MS);
    });
    watcher.on("error", (e) => log.warn("config watcher failed; use SIGHUP to reload", { error: e.message }));
  } catch (e) {
    log.warn("cannot watch the config file; use SIGHUP to reload", { error: errorMessage(e) });
  }
  return () => {
    if (timer) clearTimeout(timer);
    watcher?.close();
  };
}
