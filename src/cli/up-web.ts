// The web page for `up`: the same server as `web`, against the local backend. It takes the
// default address, or a free port when another `up` or `web` already has it (each `up` prints
// its own login URL). The page is an extra: when it cannot start, `up` says so and runs on.
import { connectAdmin } from "../backend/admin-client.ts";
import { errorMessage } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { DEFAULT_WEB_ADDRESS, parseWebAddress, type WebAddress } from "../web/address.ts";
import { startWebServer } from "../web/server.ts";
import { DEFAULT_ADMIN_TIMEOUT_MS } from "./command-table.ts";

export type UpWeb = { loginUrl: string; stop(): Promise<void> };

/** --web-address: undefined → the default address (or a free port), "off" → no page. Throws a usage error early. */
export function webAddressFlag(flag: string | undefined): WebAddress | "off" | undefined {
  if (flag === undefined) return undefined;
  return flag.toLowerCase() === "off" ? "off" : parseWebAddress(flag);
}

export async function startUpWeb(o: { url: string; adminKey: string; address: WebAddress | "off" | undefined; log: Logger }): Promise<UpWeb | undefined> {
  if (o.address === "off") return undefined;
  const wanted = o.address ?? parseWebAddress(DEFAULT_WEB_ADDRESS);
  const admin = connectAdmin(o.url, o.adminKey, { timeoutMs: DEFAULT_ADMIN_TIMEOUT_MS });
  const attempts: WebAddress[] = o.address === undefined ? [wanted, { ...wanted, port: 0 }] : [wanted];
  let lastError: unknown;
  for (const address of attempts) {
    try {
      const server = await startWebServer({ admin, address, log: o.log.child("web") });
      return {
        loginUrl: server.loginUrl,
        async stop() {
          await server.stop();
          await admin.close();
        },
      };
    } catch (e) {
      lastError = e;
    }
  }
  await admin.close();
  o.log.warn(`the web page could not start: ${errorMessage(lastError)}; the workers run without it (--web-address HOST:PORT picks another address)`);
  return undefined;
}
