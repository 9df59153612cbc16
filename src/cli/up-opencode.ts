// What `up` can tell about OpenCode before the first prompt: which copy runs, and whether it
// has any model to talk to. Neither stops `up` (a person may fix it while the workers wait):
// each problem is one line saying how to fix it.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { readConfigEnv } from "../config/env.ts";
import { bundledOpencode, opencodeOnPath } from "./opencode-lookup.ts";

/** Provider keys OpenCode reads from the environment (its most used providers). */
const PROVIDER_ENV = [
  "ANTHROPIC_API_KEY",
  "OPENAI_API_KEY",
  "GEMINI_API_KEY",
  "GOOGLE_GENERATIVE_AI_API_KEY",
  "OPENROUTER_API_KEY",
  "GROQ_API_KEY",
  "XAI_API_KEY",
  "DEEPSEEK_API_KEY",
  "MISTRAL_API_KEY",
  "GITHUB_TOKEN",
  "AWS_ACCESS_KEY_ID",
  "AZURE_API_KEY",
];

const CONFIG_NAMES = ["opencode.json", "opencode.jsonc", "config.json"];

function nonEmptyFile(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && st.size > 2;
  } catch {
    return false;
  }
}

/**
 * Where OpenCode would find a model: its login (`opencode auth login` → auth.json in its data
 * folder), a config (global, given by variable, or in the project folder) or a provider key in
 * the environment. A config may name a provider without a key; OpenCode then says so at the
 * first prompt, which is as early as anyone can know.
 */
export function opencodeModelSource(folders: string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const c = readConfigEnv(env);
  const dataHome = c.xdgDataHome ?? join(c.home, ".local", "share");
  const configHome = c.xdgConfigHome ?? join(c.home, ".config");
  const auth = join(dataHome, "opencode", "auth.json");
  if (nonEmptyFile(auth)) return auth;
  if (env.OPENCODE_CONFIG_CONTENT) return "OPENCODE_CONFIG_CONTENT";
  if (env.OPENCODE_CONFIG && existsSync(env.OPENCODE_CONFIG)) return env.OPENCODE_CONFIG;
  for (const dir of [join(configHome, "opencode"), ...folders, ...folders.map((f) => join(f, ".opencode"))]) {
    for (const name of CONFIG_NAMES) if (nonEmptyFile(join(dir, name))) return join(dir, name);
  }
  return PROVIDER_ENV.find((name) => env[name]);
}

export type OpencodeReport = { path: string | undefined; lines: string[] };

/** The OpenCode workers will run (an explicit OPENCODE_PATH first, as for dev) and what to fix. */
export function checkOpencode(folders: string[], env: NodeJS.ProcessEnv = process.env): OpencodeReport {
  const path = readConfigEnv(env).opencodePath ?? bundledOpencode() ?? opencodeOnPath(env.PATH ?? "");
  if (!path) {
    return {
      path,
      lines: [
        "OpenCode is not installed: run `npm install` in the opencode-orchestrator folder (it puts OpenCode in node_modules/.bin), " +
          "or `npm i -g opencode-ai`; then `opencode auth login`. The workers start anyway and answer once it is there.",
      ],
    };
  }
  if (opencodeModelSource(folders, env)) return { path, lines: [] };
  return {
    path,
    lines: [
      `OpenCode (${path}) has no model configured: run \`${path === bundledOpencode() ? path : "opencode"} auth login\` and choose a provider ` +
        "(or set its API key, e.g. ANTHROPIC_API_KEY, or a model in ~/.config/opencode/opencode.json). Prompts fail until it has one.",
    ],
  };
}
