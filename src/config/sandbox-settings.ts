// A worker's sandbox settings and their defaults — defined here once; the workers.json
// schema and WORKER_SANDBOX (dev) only carry the values.

export const SANDBOX_MODES = ["auto", "on", "off"] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];

export type SandboxSettings = {
  /** auto: on where the machine supports it, else off with a warning; on: refuse to run without it; off. */
  mode: SandboxMode;
  /** Keep the network (the model provider needs it). */
  network: boolean;
  /** Extra absolute paths made invisible to the agent. */
  hide: string[];
  /** Extra absolute paths the agent may write. */
  writable: string[];
};

export const SANDBOX_DEFAULTS: SandboxSettings = { mode: "auto", network: true, hide: [], writable: [] };

export function isSandboxMode(v: string): v is SandboxMode {
  return (SANDBOX_MODES as readonly string[]).includes(v);
}

/** workers.json fields → settings; `resolve` turns a written path into an absolute one (~, relative). */
export function sandboxSettingsOf(
  entry: { sandbox?: SandboxMode; sandbox_network?: boolean; sandbox_hide?: string[]; sandbox_writable?: string[] },
  resolve: (p: string) => string,
): SandboxSettings {
  return {
    mode: entry.sandbox ?? SANDBOX_DEFAULTS.mode,
    network: entry.sandbox_network ?? SANDBOX_DEFAULTS.network,
    hide: (entry.sandbox_hide ?? []).map(resolve),
    writable: (entry.sandbox_writable ?? []).map(resolve),
  };
}
