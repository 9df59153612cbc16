// Document ids: 120 random bits plus the table's number, in a lower-case base32 alphabet.
// Random, not counted: a restarted backend (in memory or not) never hands out an id that a
// client may still hold from before — a reused id once ran a prompt on the wrong worker.
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const RANDOM_CHARS = 24; // 15 bytes
const TABLE_CHARS = 4; // up to 2^20 tables
const ID_PATTERN = new RegExp(`^[${ALPHABET}]{${RANDOM_CHARS + TABLE_CHARS}}$`);

function encode(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

function encodeNumber(n: number): string {
  let out = "";
  for (let i = 0; i < TABLE_CHARS; i++) {
    out = ALPHABET[n & 31] + out;
    n >>>= 5;
  }
  return out;
}

export function newId(tableNumber: number): string {
  return encode(randomBytes(15)) + encodeNumber(tableNumber);
}

/** The table number inside an id, or undefined when the string is not an id of this backend. */
export function tableNumberOf(id: string): number | undefined {
  if (!ID_PATTERN.test(id)) return undefined;
  let n = 0;
  for (const c of id.slice(RANDOM_CHARS)) n = n * 32 + ALPHABET.indexOf(c);
  return n;
}
