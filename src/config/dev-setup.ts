// Dev mode's first-run setup: the missing token and URL asked for on a terminal and saved to
// the .env file — all at once, after every answer is in.
import type { ConfigIssue } from "../util/errors.ts";
import { writeSecureFile } from "../util/secure-file.ts";
import type { DevSettings } from "./dev-config.ts";
import type { DevSources } from "./dev-settings.ts";
import { ENV_NAMES } from "./env.ts";
import { updateEnvText } from "./env-file.ts";
import { shellQuote } from "./file-checks.ts";
import type { Prompter } from "./prompter.ts";
import { checkConvexUrl, checkToken } from "./rules.ts";
import type { WorkerToken } from "./token.ts";

/** Asks for what is missing, saves it, and puts the answers into the settings. */
export async function runFirstSetup(s: DevSettings, src: DevSources, prompter: Prompter): Promise<void> {
  const { envFile } = src;
  const asked = await askMissing(prompter, s.missing, envFile);
  // What came from the environment is saved with the answers, so the next shell (without
  // the export) does not ask again; never the token, which stays only where the user put it.
  const used: Record<string, string> = {};
  if (s.urlFound?.from === "env" && s.convexUrl) used[ENV_NAMES.convexUrl] = s.convexUrl;
  const lines = { ...asked.lines, ...used };
  // Written only after every answer is in: a cancel part-way leaves the file untouched.
  src.fileText = updateEnvText(src.fileText ?? "", lines);
  writeSecureFile(envFile, src.fileText);
  if (asked.token) {
    s.token = asked.token;
    s.tokenFound = { value: "", from: "file" };
  }
  if (asked.convexUrl) s.convexUrl = asked.convexUrl;
  const notSaved = s.tokenFound?.from === "env" ? ` ${ENV_NAMES.workerToken} came from the environment and was not copied into the file.` : "";
  prompter.outro(`Saved ${Object.keys(lines).join(" and ")} to ${envFile} (mode 600). Keep this file out of version control.${notSaved}`);
}

export function missingIssue(key: string, envFile: string, interactive: boolean): ConfigIssue {
  const example = key === ENV_NAMES.workerToken ? "machine_<machineId>:worker_<workerId>:secret_<secret>" : "https://<deployment>.convex.cloud";
  return {
    file: envFile,
    path: key,
    message: "is not set",
    fix:
      `Set the environment variable ${key}, or add the line ${key}=${example} to ${shellQuote(envFile)} (chmod 600)` +
      (interactive ? "." : ", or run on a terminal to be asked."),
  };
}

type Asked = { lines: Record<string, string>; token?: WorkerToken; convexUrl?: string };

async function askMissing(p: Prompter, missing: string[], envFile: string): Promise<Asked> {
  p.intro("opencode-orchestrator dev: first-run setup");
  p.note(`${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} not set.\nThe answers will be saved to ${envFile} (mode 600).\nPress Ctrl+C to cancel: nothing is written.`, "Setup");
  const asked: Asked = { lines: {} };
  for (const key of missing) {
    if (key === ENV_NAMES.workerToken) {
      const text = await p.secret({
        message: "Worker token (machine_…:worker_…:secret_…)",
        check: (v) => {
          const r = checkToken(v);
          return r.ok ? undefined : `The token ${r.message}. ${r.fix}`;
        },
      });
      const r = checkToken(text);
      if (r.ok) asked.token = r.value;
      asked.lines[key] = text;
    } else {
      const text = await p.text({
        message: "Convex deployment URL",
        placeholder: "https://happy-animal-123.convex.cloud",
        check: (v) => {
          const r = checkConvexUrl(v);
          return r.ok ? undefined : `The URL ${r.message}.`;
        },
      });
      const r = checkConvexUrl(text);
      if (r.ok) asked.convexUrl = r.value;
      asked.lines[key] = r.ok ? r.value : text;
    }
  }
  return asked;
}
