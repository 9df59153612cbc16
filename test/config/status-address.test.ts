// The status address precedence, written once (config/status-address.ts) and followed by
// validate, orchestrate and status: flag > OPENCODE_ORCHESTRATOR_STATUS_ADDRESS > workers.json > default.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { MAX_JSON_DEPTH } from "../../src/config/jsonc.ts";
import { chooseStatusAddress, statusAddressForClient } from "../../src/config/status-address.ts";
import { readConfigEnv } from "../../src/config/env.ts";
import { DEFAULTS } from "../../src/config/types.ts";
import { loadWorkersConfig } from "../../src/config/workers-file.ts";
import { ConfigError } from "../../src/util/errors.ts";
import { runCli } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";
import { scenario, worker, writeConfig } from "./fixtures/workers.ts";

const envWith = (vars: Record<string, string>, configPath: string) =>
  readConfigEnv({ HOME: tempDir("home-"), OPENCODE_ORCHESTRATOR_CONFIG: configPath, ...vars });

describe("status address precedence", () => {
  test("flag > environment > file > default", () => {
    expect(chooseStatusAddress({ flag: "a:1", env: "b:2", file: "c:3" })).toEqual({ text: "a:1", origin: "flag" });
    expect(chooseStatusAddress({ env: "b:2", file: "c:3" })).toEqual({ text: "b:2", origin: "env" });
    expect(chooseStatusAddress({ file: "c:3" })).toEqual({ text: "c:3", origin: "file" });
    expect(chooseStatusAddress({})).toEqual({ text: DEFAULTS.statusAddress, origin: "default" });
  });

  test("the loader, the status client and orchestrate's flag agree", async () => {
    const s = scenario();
    writeConfig(s.configPath, { status_address: "127.0.0.1:7001", workers: [worker()] });
    const fileOnly = envWith({}, s.configPath);
    expect((await loadWorkersConfig(s.configPath, { createTemplate: false, env: fileOnly })).statusAddress).toBe("127.0.0.1:7001");
    expect(await statusAddressForClient({ env: fileOnly })).toEqual({ value: "127.0.0.1:7001", origin: "file", where: `status_address in ${s.configPath}` });

    const withEnv = envWith({ OPENCODE_ORCHESTRATOR_STATUS_ADDRESS: "127.0.0.1:7002" }, s.configPath);
    expect((await loadWorkersConfig(s.configPath, { createTemplate: false, env: withEnv })).statusAddress).toBe("127.0.0.1:7002");
    expect((await statusAddressForClient({ env: withEnv })).value).toBe("127.0.0.1:7002");

    const flagged = await loadWorkersConfig(s.configPath, { createTemplate: false, env: withEnv, statusAddressFlag: "off" });
    expect(flagged.statusAddress).toBeNull();
    expect((await statusAddressForClient({ env: withEnv, flag: "127.0.0.1:7003" })).value).toBe("127.0.0.1:7003");
  });

  test("a worker entry left out does not drop the file's status_address", async () => {
    const s = scenario();
    writeConfig(s.configPath, { status_address: "127.0.0.1:7004", workers: [worker(), worker({ working_directory: "../nowhere", name: "bad" })] });
    const config = await loadWorkersConfig(s.configPath, { createTemplate: false, isolateWorkers: true, env: envWith({}, s.configPath) });
    expect(config.rejected.map((r) => r.name)).toEqual(["bad"]);
    expect(config.statusAddress).toBe("127.0.0.1:7004");
  });

  // Issue 8 item 5 for `status`, which reads workers.json for the address.
  test("status on a workers.json of 100k '[': the usual syntax error, exit 78", async () => {
    const dir = tempDir("deep-");
    const path = join(dir, "workers.json");
    writeConfig(path, `{"status_address": ${"[".repeat(100_000)}`);
    const r = await runCli("binary", ["status"], { env: { OPENCODE_ORCHESTRATOR_CONFIG: path, OPENCODE_ORCHESTRATOR_STATUS_ADDRESS: undefined } });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`${path}:1:${19 + MAX_JSON_DEPTH}: lists and objects are nested more than ${MAX_JSON_DEPTH} levels deep`);
    expect(r.stderr).not.toContain("call stack");
    const e = await statusAddressForClient({ env: envWith({}, path) }).catch((x) => x);
    expect(e).toBeInstanceOf(ConfigError);
  });
});
