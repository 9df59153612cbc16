// The page's built files. This source stands in when running from src/; scripts/build.ts
// replaces this module with the bundled page, so the binary and dist/cli.mjs carry it inside.
export type EmbeddedAsset = { type: string; body: string };

export const EMBEDDED_ASSETS: Record<string, EmbeddedAsset> | null = null;
