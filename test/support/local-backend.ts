// One embedded backend and an admin client for a test file: started before its first test,
// closed and stopped after its last, handed to the file through `use`.
import { afterAll, beforeAll } from "bun:test";
import { connectAdmin, type AdminClient } from "../../src/backend/admin-client.ts";
import { startLocalBackend, type LocalBackend } from "../../src/local-backend/backend.ts";

export function useLocalBackend(use: (backend: LocalBackend, admin: AdminClient) => void): void {
  let backend: LocalBackend | undefined;
  let admin: AdminClient | undefined;
  beforeAll(async () => {
    // No sweep: these tests decide when workers go offline.
    backend = await startLocalBackend({ sweepIntervalMs: 0 });
    admin = connectAdmin(backend.url, backend.adminKey);
    use(backend, admin);
  });
  afterAll(async () => {
    await admin?.close();
    await backend?.stop();
  });
}
