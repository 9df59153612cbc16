// Serving the page's files from memory (they are built into the program).
import type { ServerResponse } from "node:http";
import { EMBEDDED_ASSETS } from "./embedded-assets.ts";

const NOT_BUILT: Record<string, { type: string; body: string }> = {
  "/": {
    type: "text/html; charset=utf-8",
    body: "<!doctype html><title>opencode-orchestrator</title><p>The page is not built into this run. Run <code>npm run build</code> and start <code>dist/opencode-orchestrator web</code>.</p>",
  },
};

/** Sends the asset at `path` ("/" is the page); false when there is none. */
export function serveAsset(res: ServerResponse, path: string): boolean {
  const asset = (EMBEDDED_ASSETS ?? NOT_BUILT)[path === "/index.html" ? "/" : path];
  if (!asset) return false;
  res.writeHead(200, {
    "Content-Type": asset.type,
    // The page is small and changes with the binary; revalidating is cheap and never stale.
    "Cache-Control": "no-cache",
  });
  res.end(asset.body);
  return true;
}
