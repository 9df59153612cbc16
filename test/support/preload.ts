// Every test run gets its own HOME and XDG folders and no inherited secrets, so nothing a
// test does touches the developer's real config and no real token leaks into a test.
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = mkdtempSync(join(tmpdir(), "oco-test-"));
const home = join(root, "home");
for (const d of ["", ".config", ".local/share", ".local/state", ".cache"]) mkdirSync(join(home, d), { recursive: true });

process.env.HOME = home;
process.env.XDG_CONFIG_HOME = join(home, ".config");
process.env.XDG_DATA_HOME = join(home, ".local/share");
process.env.XDG_STATE_HOME = join(home, ".local/state");
process.env.XDG_CACHE_HOME = join(home, ".cache");
process.env.OCO_TEST_ROOT = root;

for (const name of [
  "WORKER_TOKEN",
  "CONVEX_URL",
  "CONVEX_ADMIN_KEY",
  "CONVEX_DEPLOY_KEY",
  "CONVEX_DEPLOYMENT",
  "OPENCODE_ORCHESTRATOR_CONFIG",
  "OPENCODE_CONFIG",
  "OPENCODE_CONFIG_CONTENT",
  "OPENCODE_SERVER_PASSWORD",
  "FORCE_COLOR",
]) {
  delete process.env[name];
}
process.env.NO_COLOR = "1";
