// chat --tag's flags and its note while a prompt waits: a tag nobody has reads differently from
// tagged workers that are offline or busy.
import { describe, expect, test } from "bun:test";
import type { WorkerSummary } from "../../src/backend/api.ts";
import { chatTags, waitingNote } from "../../src/cli/chat-route.ts";
import { UsageError } from "../../src/util/errors.ts";

const worker = (name: string, o: Partial<WorkerSummary>): WorkerSummary => ({
  machineId: "m",
  machineName: "m",
  workerId: `id-${name}`,
  name,
  approval: "approved",
  status: "online",
  lastHeartbeatAt: null,
  hostname: null,
  version: null,
  directory: null,
  createdAt: 0,
  approvedAt: 0,
  models: [],
  paused: false,
  tags: [],
  capacity: 4,
  ...o,
});

describe("chat --tag", () => {
  test("flags: tags deduplicated; exactly one of --worker and --tag; bad tags named", () => {
    expect(chatTags({ tag: ["api", "linux", "api"] })).toEqual(["api", "linux"]);
    expect(chatTags({ worker: "w" })).toBeUndefined();
    expect(() => chatTags({})).toThrow(UsageError);
    expect(() => chatTags({ worker: "w", tag: ["api"] })).toThrow("use either --worker or --tag");
    expect(() => chatTags({ tag: ["no way"] })).toThrow('--tag: the tag "no way"');
  });

  test("the waiting note says whether anyone has the tags, is online, or is busy", () => {
    expect(waitingNote(["api"], [worker("a", { tags: ["web"] }), worker("b", { tags: ["api"], approval: "revoked" })])).toContain(
      "no approved worker has every one of these tags",
    );
    expect(waitingNote(["api"], [worker("a", { tags: ["api"], status: "offline" }), worker("b", { tags: ["api"], paused: true })])).toContain(
      'none of "a", "b" is online and not paused',
    );
    expect(waitingNote(["api", "linux"], [worker("a", { tags: ["api", "linux"] })])).toContain("busy");
  });
});
