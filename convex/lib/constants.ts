// Timing and retry limits shared by the functions, the cron and the worker side.

/** How long a claim on a running message lasts without a heartbeat or output from its holder. */
export const LEASE_MS = 60_000;

/** How often a worker is expected to heartbeat. */
export const HEARTBEAT_INTERVAL_MS = 15_000;

/** A worker silent for this long is marked offline by the sweep (three missed heartbeats). */
export const OFFLINE_AFTER_MS = 3 * HEARTBEAT_INTERVAL_MS;

/** Claims per message: a message whose worker vanished is requeued until it has been tried this often. */
export const MAX_ATTEMPTS = 3;

/**
 * Most answers one worker may run at once: above any worker's own concurrency setting, and it
 * keeps every per-worker read of running messages small.
 */
export const MAX_RUNNING_PER_WORKER = 100;

/**
 * pendingWork's window. A subscription re-sends its whole answer on every change, so the
 * worker sees a bounded window instead of its whole queue: the oldest queued message of each
 * session (the only one it may start), oldest first. At least as many sessions as a worker
 * may run at once (max_concurrent_sessions is at most 64), so the window never limits its
 * parallelism; it moves on as the worker claims.
 */
export const PENDING_SESSIONS = 64;
/** Most queued rows pendingWork looks through to find those sessions (small rows: no prompt text). */
export const PENDING_SCAN = 500;
/** Prompt characters one pendingWork answer carries beyond its first message. */
export const PENDING_PROMPT_CHARS = 500_000;

/** How often the deployed cron runs the sweep. */
export const SWEEP_INTERVAL_MS = 60_000;

/** Most rows the sweep handles per run, so one transaction stays small; the next run takes the rest. */
export const SWEEP_BATCH = 200;

/**
 * Retention: sessions idle (no prompt sent) this many days are deleted with their messages and
 * output, and revoked workers this many days after revocation. A deployment changes it with
 * admin:setRetention.
 */
export const RETENTION_DAYS_DEFAULT = 30;
/** The most a deployment may keep data by that setting (or null: keep for ever). */
export const MAX_RETENTION_DAYS = 36_500;
/** How often the deployed cron deletes what is past retention. */
export const RETENTION_INTERVAL_MS = 60 * 60_000;
/**
 * One retention transaction deletes at most this many documents and reads at most about this
 * many characters of text (≤ 3 bytes each, well below a transaction's 8 MiB read limit); when
 * more is due it schedules itself again at once.
 */
export const RETENTION_BATCH_DOCS = 2_000;
export const RETENTION_BATCH_CHARS = 1_000_000;

/** chat:messages returns a session's latest messages, at most this many (prompts and answers). */
export const MAX_SESSION_MESSAGES = 200;

// Input limits: keep every document well below Convex's 1 MiB document limit.
export const MAX_PROMPT_CHARS = 100_000;
export const MAX_OUTPUT_BATCH_CHARS = 200_000;
/** Output batches are stored together up to this size, so a long answer stays a few documents. */
export const OUTPUT_CHUNK_CHARS = 64_000;
export const MAX_NAME_CHARS = 64;
export const MAX_TITLE_CHARS = 200;
export const MAX_REASON_CHARS = 2_000;
export const MAX_MODELS = 1_000;
export const MAX_INFO_CHARS = 1_000;

/** A tool call's input, as one short line for people. */
export const TOOL_INPUT_CHARS = 300;
/** The start of a tool's output or error kept with the call. */
export const TOOL_OUTPUT_CHARS = 4_000;
/** A changed file's patch kept with the turn. */
export const FILE_PATCH_CHARS = 16_000;
/** Reasoning text kept per part (the rest is dropped and the part marked truncated). */
export const REASONING_CHARS = 32_000;
/** Items of a todo list kept. */
export const MAX_TODOS = 100;
/** Part changes one output batch may carry. */
export const MAX_PART_UPDATES = 200;
/** Parts one chat:parts answer returns; a reader asks again from `throughSeq` for the rest. */
export const MAX_PARTS_PER_READ = 500;

// Routing (lib/routing.ts): sessions addressed to a tag set instead of a worker.
/** Tags one worker may carry, and one session may ask for. */
export const MAX_TAGS = 16;
/** Characters of one tag (tags are typed on command lines, like worker names). */
export const MAX_TAG_CHARS = 32;
/** A tag: letters, digits, ".", "_" and "-", not starting with "." or "-"; case matters. */
export const TAG_PATTERN = new RegExp(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,${MAX_TAG_CHARS - 1}}$`);
/**
 * A routed session whose worker has been offline this long is given up on: its queued prompts
 * go to another worker with every tag (a fresh agent session there). Change it here and deploy.
 */
export const REROUTE_AFTER_MS = 10 * 60_000;
/** Waiting (unrouted) queued rows one routing pass looks through; the next pass takes the rest. */
export const ROUTE_SCAN = 500;
/** Approved workers routing considers as candidates for one session. */
export const ROUTE_CANDIDATES = 1_000;
/** The title of a session created without one; sessions:list shows its first prompt instead. */
export const DEFAULT_SESSION_TITLE = "New session";

// Permission requests and questions (convex/requests.ts): what one request may carry.
/** A request's one-line title and a pattern or option label, as a person reads them. */
export const REQUEST_TITLE_CHARS = 300;
/** The short summary of the tool input a request is about. */
export const REQUEST_DETAIL_CHARS = 1_000;
/** Patterns one permission request lists. */
export const MAX_REQUEST_PATTERNS = 50;
/** Questions one question request asks, options one question offers. */
export const MAX_QUESTIONS = 20;
export const MAX_QUESTION_OPTIONS = 50;
/** A question's text or an option's description. */
export const QUESTION_TEXT_CHARS = 4_000;
/** A person's message with a rejection, or one typed answer. */
export const REQUEST_MESSAGE_CHARS = 4_000;
/** Requests one answer may raise (an agent stuck asking hits it and is refused). */
export const MAX_REQUESTS_PER_MESSAGE = 200;
/** Open requests one read returns (a worker's undelivered answers, a person's pending list). */
export const MAX_OPEN_REQUESTS = 200;
