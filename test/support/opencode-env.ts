// An isolated, offline OpenCode for tests: the real `opencode` from node_modules, configured
// through its environment to use only the stub model and to touch nothing on the network
// (facts in shared/reference/opencode.md §2: models fetch off, config folder pre-seeded so
// OpenCode's background `npm install` of its plugin package is skipped).
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "../..");
export const OPENCODE_BIN_DIR = join(REPO, "node_modules/.bin");
export const OPENCODE_BIN = join(OPENCODE_BIN_DIR, "opencode");

/** Version of the installed opencode-ai package; the pre-seeded plugin dependency must match it. */
export function opencodeVersion(): string {
  return JSON.parse(readFileSync(join(REPO, "node_modules/opencode-ai/package.json"), "utf8")).version;
}

export const STUB_PROVIDER = "stub";
export const STUB_MODEL = "stub-model";
/**
 * A second stub model that costs money: OpenCode prices a step from the model's `cost` (USD per
 * million tokens) and the stub's usage (10 prompt + 20 completion tokens), so every model call
 * costs STUB_PRICED_STEP_COST.
 */
export const STUB_PRICED_MODEL = "stub-priced";
export const STUB_PRICED_COST = { input: 1_000, output: 2_000 };
export const STUB_PRICED_STEP_COST = (10 * STUB_PRICED_COST.input + 20 * STUB_PRICED_COST.output) / 1_000_000;

/** OpenCode config that knows only the stub provider. */
export function stubOpencodeConfig(stubUrl: string): Record<string, unknown> {
  return {
    $schema: "https://opencode.ai/config.json",
    provider: {
      [STUB_PROVIDER]: {
        npm: "@ai-sdk/openai-compatible",
        name: "Stub",
        options: { baseURL: stubUrl, apiKey: "stub-key" },
        models: { [STUB_MODEL]: { name: "Stub Model" }, [STUB_PRICED_MODEL]: { name: "Stub Priced", cost: STUB_PRICED_COST } },
      },
    },
    model: `${STUB_PROVIDER}/${STUB_MODEL}`,
    small_model: `${STUB_PROVIDER}/${STUB_MODEL}`,
    enabled_providers: [STUB_PROVIDER],
    autoupdate: false,
    share: "disabled",
  };
}

/**
 * Pre-seeds `<xdgConfigHome>/opencode` so OpenCode believes its plugin package is installed
 * (otherwise it runs an embedded `npm install` on first boot, which needs the network and
 * swallows SIGTERM while it runs).
 */
export function seedOpencodeConfigDir(xdgConfigHome: string): string {
  const dir = join(xdgConfigHome, "opencode");
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  const deps = { "@opencode-ai/plugin": opencodeVersion() };
  if (!existsSync(join(dir, "package.json"))) writeFileSync(join(dir, "package.json"), JSON.stringify({ dependencies: deps }) + "\n");
  if (!existsSync(join(dir, "package-lock.json"))) {
    writeFileSync(
      join(dir, "package-lock.json"),
      JSON.stringify({ name: "opencode", lockfileVersion: 3, requires: true, packages: { "": { dependencies: deps } } }) + "\n",
    );
  }
  return dir;
}

export type OpencodeTestEnvOptions = {
  /**
   * A private root for HOME and the XDG folders (created if needed); they are then part of the
   * returned env. Without it the current process's XDG_CONFIG_HOME (isolated per test run by
   * test/support/preload.ts) is pre-seeded and HOME/XDG are left to the inherited env.
   */
  root?: string;
};

/**
 * Env vars to merge into a child's environment so the `opencode` it starts (found on PATH)
 * uses the stub at `stubUrl` and nothing else.
 */
export function opencodeTestEnv(stubUrl: string, opts: OpencodeTestEnvOptions = {}): Record<string, string> {
  const env: Record<string, string> = {};
  let configHome = process.env.XDG_CONFIG_HOME;
  if (opts.root) {
    const home = resolve(opts.root);
    env.HOME = home;
    env.XDG_CONFIG_HOME = join(home, ".config");
    env.XDG_DATA_HOME = join(home, ".local/share");
    env.XDG_STATE_HOME = join(home, ".local/state");
    env.XDG_CACHE_HOME = join(home, ".cache");
    for (const k of ["XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"] as const) mkdirSync(env[k]!, { recursive: true });
    configHome = env.XDG_CONFIG_HOME;
  }
  if (!configHome) throw new Error("opencodeTestEnv: XDG_CONFIG_HOME is not set (is test/support/preload.ts loaded?) and no root was given");
  seedOpencodeConfigDir(configHome);

  env.OPENCODE_CONFIG_CONTENT = JSON.stringify(stubOpencodeConfig(stubUrl));
  env.OPENCODE_DISABLE_MODELS_FETCH = "1";
  env.OPENCODE_DISABLE_AUTOUPDATE = "1";
  env.OPENCODE_DISABLE_LSP_DOWNLOAD = "1";
  const path = process.env.PATH ?? "";
  env.PATH = path.split(delimiter).includes(OPENCODE_BIN_DIR) ? path : [OPENCODE_BIN_DIR, path].filter(Boolean).join(delimiter);
  return env;
}
