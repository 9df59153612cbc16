// `web`: the person's page in a browser, served by this process. The backend is found as
// `admin` and `chat` find it; the admin key stays here and the browser logs in with a token
// printed once in the URL.
import { connectAdmin } from "../backend/admin-client.ts";
import { EXIT } from "../util/errors.ts";
import { DEFAULT_WEB_ADDRESS, isLoopback, parseWebAddress } from "../web/address.ts";
import { startWebServer } from "../web/server.ts";
import type { CommandContext } from "./command-spec.ts";
import { DEFAULT_ADMIN_TIMEOUT_MS, type webOptions } from "./command-table.ts";
import { resolvePersonTarget } from "./up-target.ts";

export async function run(ctx: CommandContext<typeof webOptions>): Promise<number> {
  const address = parseWebAddress(ctx.flags.address ?? DEFAULT_WEB_ADDRESS);
  const target = resolvePersonTarget({ url: ctx.flags.url, adminKey: ctx.flags["admin-key"] }, ctx.stderr);
  const admin = connectAdmin(target.url, target.adminKey, { timeoutMs: (ctx.flags.timeout ?? DEFAULT_ADMIN_TIMEOUT_MS / 1000) * 1000 });
  let server;
  try {
    // Fail now with the reason (unreachable, wrong key, functions missing) rather than on the page.
    await admin.list();
    server = await startWebServer({ admin, address, log: ctx.log });
  } catch (e) {
    await admin.close();
    throw e;
  }
  if (!isLoopback(address.host)) {
    ctx.stderr(
      `warning: listening on ${address.host}:${server.port}, reachable from other machines over plain http. Anyone who sees ` +
        "the login URL can drive your workers; prefer 127.0.0.1 with an SSH tunnel, or a private network.",
    );
  }
  // The login URL goes to stdout (it is the command's output); it is shown this once.
  ctx.stdout(server.loginUrl);
  ctx.log.info(`web page for ${target.url} at ${server.url}; open the URL above (it logs you in). Ctrl+C stops it.`);

  await new Promise<void>((resolve) => {
    const off = ctx.onSignal((s) => {
      if (s.signal === "SIGHUP") return;
      off();
      resolve();
    });
  });
  await server.stop();
  await admin.close();
  ctx.log.info("web page stopped");
  return EXIT.ok;
}
