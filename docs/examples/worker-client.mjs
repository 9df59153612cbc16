#!/usr/bin/env node
// A worker in ~40 lines, using nothing but the `convex` package: register with a worker token,
// wait for approval, subscribe to pending work and print each prompt that arrives.
// Usage: WORKER_TOKEN=machine_…:worker_…:secret_… CONVEX_URL=http://127.0.0.1:3210 node worker-client.mjs
import { ConvexClient } from "convex/browser";
import { anyApi } from "convex/server";

const token = process.env.WORKER_TOKEN ?? "";
const m = /^machine_([\w-]+):worker_([\w-]+):secret_([\w-]+)$/.exec(token);
if (!m || !process.env.CONVEX_URL) {
  console.error("set WORKER_TOKEN and CONVEX_URL");
  process.exit(2);
}
const auth = { machineId: m[1], workerId: m[2], secret: m[3] };
const client = new ConvexClient(process.env.CONVEX_URL);
const instanceId = `example-${process.pid}`;
const info = { hostname: "example", version: "0", directory: process.cwd() };

const first = await client.mutation(anyApi.workers.register, { auth, instanceId, info });
console.log(`registered: ${first.approval}`);

let watching = false;
client.onUpdate(anyApi.workers.self, { auth }, async (self) => {
  if (self.approval !== "approved" || watching) return;
  watching = true;
  await client.mutation(anyApi.workers.register, { auth, instanceId, info }); // now online
  console.log("approved: waiting for prompts");
  const seen = new Set();
  client.onUpdate(anyApi.workers.pendingWork, { auth }, (work) => {
    for (const msg of work.queued) {
      if (seen.has(msg.messageId)) continue;
      seen.add(msg.messageId);
      console.log(`prompt ${msg.messageId}: ${msg.prompt}`);
    }
  });
});

process.on("SIGTERM", () => void client.close().then(() => process.exit(0)));
process.on("SIGINT", () => void client.close().then(() => process.exit(0)));
