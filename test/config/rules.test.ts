import { describe, expect, test } from "bun:test";
import { checkConvexUrl, checkStatusAddress, checkToken, isLoopbackHost } from "../../src/config/rules.ts";
import { SECRET, token } from "./fixtures/workers.ts";

describe("value rules", () => {
  test("tokens parse into their parts and redact", () => {
    const r = checkToken(`  ${token("m-1", "w_2")}\n`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.machineId).toBe("m-1");
    expect(r.value.workerId).toBe("w_2");
    expect(String(r.value)).toBe("machine_m-1:worker_w_2:secret_****");
    expect(JSON.stringify({ t: r.value })).not.toContain(SECRET);
  });

  test("bad tokens explain what is wrong without the value", () => {
    for (const bad of ["", "machine_a:worker_b", `machine_a:worker_b:${SECRET}`, `machine_a:wrk_b:secret_${SECRET}`, `machine_a:worker_b:secret_bad!char`]) {
      const r = checkToken(bad);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.message + r.fix).not.toContain(SECRET);
      expect(r.fix).toContain("machine_<machineId>:worker_<workerId>:secret_<secret>");
    }
  });

  test("loopback hosts", () => {
    for (const h of ["127.0.0.1", "127.255.255.254", "localhost", "LOCALHOST", "[::1]", "::1"]) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ["128.0.0.1", "127.0.0.256", "10.0.0.1", "localhost.example.com", "example.com", "[::2]", "0.0.0.0"]) expect(isLoopbackHost(h)).toBe(false);
  });

  test("Convex URLs: https anywhere, http only on loopback, normalised", () => {
    expect(checkConvexUrl("https://a.convex.cloud/")).toEqual({ ok: true, value: "https://a.convex.cloud" });
    expect(checkConvexUrl(" HTTPS://A.convex.cloud ")).toEqual({ ok: true, value: "https://a.convex.cloud" });
    expect(checkConvexUrl("http://127.0.0.1:3210/")).toEqual({ ok: true, value: "http://127.0.0.1:3210" });
    expect(checkConvexUrl("http://[::1]:3210")).toEqual({ ok: true, value: "http://[::1]:3210" });
    expect(checkConvexUrl("http://a.convex.cloud").ok).toBe(false);
    expect(checkConvexUrl("ws://127.0.0.1").ok).toBe(false);
    expect(checkConvexUrl("https://user:pw@a.convex.cloud").ok).toBe(false);
    expect(checkConvexUrl("https://a.convex.cloud/?x=1").ok).toBe(false);
    expect(checkConvexUrl("a.convex.cloud").ok).toBe(false);
  });

  test("status addresses", () => {
    expect(checkStatusAddress("off")).toEqual({ ok: true, value: null });
    expect(checkStatusAddress("127.0.0.1:7420")).toMatchObject({ ok: true, value: "127.0.0.1:7420", loopback: true });
    expect(checkStatusAddress("[::1]:0")).toMatchObject({ ok: true, value: "[::1]:0", loopback: true });
    expect(checkStatusAddress("0.0.0.0:7420")).toMatchObject({ ok: true, loopback: false });
    expect(checkStatusAddress("7420").ok).toBe(false);
    expect(checkStatusAddress("host:99999").ok).toBe(false);
  });
});
