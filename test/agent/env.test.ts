import { describe, expect, test } from "bun:test";
import { AGENT_MARKER_VAR, agentEnv, isSecretVar } from "../../src/agent/index.ts";

describe("agentEnv", () => {
  const base = {
    PATH: "/usr/bin",
    HOME: "/home/u",
    ANTHROPIC_API_KEY: "sk-user-key",
    OPENCODE_CONFIG: "/home/u/oc.json",
    WORKER_TOKEN: "machine_a:worker_b:secret_abcDEF123",
    worker_token: "lowercase variant",
    CONVEX_ADMIN_KEY: "prod|abc",
    CONVEX_DEPLOY_KEY: "dev:xyz",
    OPENCODE_ORCHESTRATOR_CONFIG: "/x/workers.json",
    OPENCODE_ORCHESTRATOR_AGENT: "inherited-marker",
    SOME_OTHER: "prefix machine_c:worker_d:secret_zzz-9 suffix",
    OPENCODE_SERVER_PASSWORD: "users-own-password",
    EMPTY: "",
    UNSET: undefined,
  };

  test("keeps the user's environment and OpenCode config, drops our secrets", () => {
    const env = agentEnv(base, { marker: "m-123", password: "pw-456" });
    expect(env.PATH).toBe("/usr/bin");
    expect(env.HOME).toBe("/home/u");
    expect(env.ANTHROPIC_API_KEY).toBe("sk-user-key");
    expect(env.OPENCODE_CONFIG).toBe("/home/u/oc.json");
    expect(env.EMPTY).toBe("");
    expect("UNSET" in env).toBe(false);
    for (const k of ["WORKER_TOKEN", "worker_token", "CONVEX_ADMIN_KEY", "CONVEX_DEPLOY_KEY", "OPENCODE_ORCHESTRATOR_CONFIG", "SOME_OTHER"]) {
      expect(k in env).toBe(false);
    }
    expect(Object.values(env).join("\n")).not.toContain("secret_");
  });

  test("adds its own password, the update switch and a fresh marker", () => {
    const env = agentEnv(base, { marker: "m-123", password: "pw-456" });
    expect(env.OPENCODE_SERVER_PASSWORD).toBe("pw-456");
    expect(env.OPENCODE_SERVER_USERNAME).toBe("opencode");
    expect(env.OPENCODE_DISABLE_AUTOUPDATE).toBe("1");
    expect(env[AGENT_MARKER_VAR]).toBe("m-123");
  });

  test("isSecretVar", () => {
    expect(isSecretVar("X", "secret_a")).toBe(true);
    expect(isSecretVar("X", "my secret file")).toBe(false);
    expect(isSecretVar("CONVEX_URL", "https://x.convex.cloud")).toBe(false);
    expect(isSecretVar("OPENCODE_ORCHESTRATOR_LOG_LEVEL", "debug")).toBe(true);
  });
});
