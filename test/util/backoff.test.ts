import { describe, expect, test } from "bun:test";
import { backoffDelay, RESTART_BACKOFF } from "../../src/util/backoff.ts";

describe("restart backoff", () => {
  test("grows exponentially from about 1 s and is capped at 5 min", () => {
    const mid = () => 0.5; // no jitter
    expect(backoffDelay(RESTART_BACKOFF, 1, mid)).toBe(1000);
    expect(backoffDelay(RESTART_BACKOFF, 2, mid)).toBe(2000);
    expect(backoffDelay(RESTART_BACKOFF, 5, mid)).toBe(16000);
    expect(backoffDelay(RESTART_BACKOFF, 30, mid)).toBe(300000);
  });

  test("jitter stays within ±20 %", () => {
    expect(backoffDelay(RESTART_BACKOFF, 3, () => 0)).toBe(3200);
    expect(backoffDelay(RESTART_BACKOFF, 3, () => 1)).toBe(4800);
  });
});
