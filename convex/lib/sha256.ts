// Hashing of worker secrets. Web Crypto's digest is deterministic, so Convex allows it in
// queries and mutations as well as actions: secrets are hashed with it when a worker is
// created (an action) and again on every call that checks a token (queries and mutations).

/** Lower-case hex SHA-256 of the UTF-8 bytes of `text`. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Compares two strings in time that depends only on their lengths, so a caller probing
 * secret hashes learns nothing from how fast a wrong guess is rejected.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  // charCodeAt past the end is NaN; `| 0` turns it into 0 so the loop never branches.
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}
