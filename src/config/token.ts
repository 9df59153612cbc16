// The worker token: machine_<machineId>:worker_<workerId>:secret_<secret>.
// One definition of the format. Parsed tokens never print their secret: JSON, string
// conversion and inspection all give the redacted form.

const PART = "[A-Za-z0-9_-]+";
export const TOKEN_PATTERN = new RegExp(`^machine_(${PART}):worker_(${PART}):secret_(${PART})$`);
export const TOKEN_FORMAT = "machine_<machineId>:worker_<workerId>:secret_<secret>";
export const TOKEN_FORMAT_HELP =
  `A worker token looks like ${TOKEN_FORMAT} (ids and secret: letters, digits, "_" and "-"). ` +
  "Get one with `opencode-orchestrator admin add-worker --machine <name>`.";

const secrets = new WeakMap<WorkerToken, string>();

export class WorkerToken {
  readonly machineId: string;
  readonly workerId: string;
  /** `machine_<id>:worker_<id>:secret_****` */
  readonly redacted: string;

  private constructor(machineId: string, workerId: string, secret: string) {
    this.machineId = machineId;
    this.workerId = workerId;
    this.redacted = `machine_${machineId}:worker_${workerId}:secret_****`;
    secrets.set(this, secret);
    Object.freeze(this);
  }

  /** Parses a token; returns null when the text is not a token (callers build the error). */
  static parse(text: string): WorkerToken | null {
    const m = TOKEN_PATTERN.exec(text.trim());
    if (!m) return null;
    return new WorkerToken(m[1]!, m[2]!, m[3]!);
  }

  /** The secret itself. Only the backend client may call this. */
  revealSecret(): string {
    return secrets.get(this)!;
  }

  /** Same identity and secret. */
  equals(other: WorkerToken): boolean {
    return this.machineId === other.machineId && this.workerId === other.workerId && this.revealSecret() === other.revealSecret();
  }

  toString(): string {
    return this.redacted;
  }
  toJSON(): string {
    return this.redacted;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `WorkerToken(${this.redacted})`;
  }
}

/** Describes why a string is not a valid token, for error messages (never echoes the secret). */
export function explainBadToken(text: string): string {
  const t = text.trim();
  if (t === "") return "the token is empty";
  const parts = t.split(":");
  if (parts.length !== 3) return `expected 3 parts separated by ":" but found ${parts.length}`;
  const [m, w, s] = parts as [string, string, string];
  if (!/^machine_[A-Za-z0-9_-]+$/.test(m)) return 'the first part must be "machine_<machineId>"';
  if (!/^worker_[A-Za-z0-9_-]+$/.test(w)) return 'the second part must be "worker_<workerId>"';
  if (!/^secret_[A-Za-z0-9_-]+$/.test(s)) return 'the third part must be "secret_<secret>"';
  return "it does not match the token format";
}
