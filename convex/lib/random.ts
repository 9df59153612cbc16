// Identifiers and secrets for new workers. Only called from an action: inside queries and
// mutations Convex makes randomness deterministic, which is no basis for a secret.

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** A short lower-case id, easy to read and type (12 characters ≈ 62 bits). */
export function randomId(length = 12): string {
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      // Reject the top of the byte range so every character is equally likely.
      if (byte < 252 && out.length < length) out += ID_ALPHABET[byte % 36];
    }
  }
  return out;
}

/** 256 random bits as base64url without padding (43 characters). */
export function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
