// Last line of defence for secrets in anything we print or serve. Tokens are already shown
// redacted by design; this catches the ones that slip into error messages from libraries.

const TOKEN_SECRET = /secret_[A-Za-z0-9_-]+/g;
const known = new Set<string>();

/** Register a secret value (OpenCode server password, admin key) so it is masked wherever it appears. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 8) known.add(value);
}

export function forgetSecret(value: string | undefined): void {
  if (value) known.delete(value);
}

export function redact(text: string): string {
  let out = text.replace(TOKEN_SECRET, (m) => (m === "secret_****" ? m : "secret_****"));
  for (const s of known) if (out.includes(s)) out = out.split(s).join("****");
  return out;
}
