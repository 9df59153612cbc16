// Prometheus text exposition of the status document: the same numbers /status shows.
import { WORKER_STATES } from "../worker/state.ts";
import { addUsageStats, emptyUsage } from "../worker/budget-usage.ts";
import type { StatusDoc } from "./status.ts";

const P = "opencode_orchestrator";

function label(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

type Row = StatusDoc["workers"][number];

/**
 * One row per worker name. While a changed worker drains, its old and new instance share the
 * name; two series with the same labels would make Prometheus reject the whole scrape.
 */
function byName(workers: Row[]): Row[] {
  const merged = new Map<string, Row>();
  for (const w of workers) {
    const m = merged.get(w.name);
    if (!m) {
      merged.set(w.name, { ...w, turns: { ...w.turns } });
      continue;
    }
    for (const k of ["completed", "failed", "cancelled", "interrupted"] as const) m.turns[k] += w.turns[k];
    m.turnsRunning += w.turnsRunning;
    m.turnsQueued += w.turnsQueued;
    m.relayBatches += w.relayBatches;
    m.heartbeatsFailed += w.heartbeatsFailed;
    m.usage = addUsageStats(m.usage ?? emptyUsage(), w.usage ?? emptyUsage());
    m.restarts += w.restarts;
    m.backendConnected ||= w.backendConnected;
    if (w.lastHeartbeatAgeSeconds !== null) {
      m.lastHeartbeatAgeSeconds = m.lastHeartbeatAgeSeconds === null ? w.lastHeartbeatAgeSeconds : Math.min(m.lastHeartbeatAgeSeconds, w.lastHeartbeatAgeSeconds);
    }
  }
  return [...merged.values()];
}

export function renderMetrics(doc: StatusDoc): string {
  const s = { ...doc, workers: byName(doc.workers) };
  const out: string[] = [];
  const metric = (name: string, type: "gauge" | "counter", help: string, samples: [string, number][]) => {
    out.push(`# HELP ${P}_${name} ${help}`, `# TYPE ${P}_${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${P}_${name}${labels} ${value}`);
  };
  const w = (name: string) => `worker="${label(name)}"`;

  metric("build_info", "gauge", "Version of the running orchestrator.", [[`{version="${label(s.version)}"}`, 1]]);
  // Tags as one label ("api,linux"), so a dashboard can group workers the way chat --tag routes.
  metric("worker_info", "gauge", "Workers and their tags.", s.workers.map((x) => [`{${w(x.name)},tags="${label((x.tags ?? []).join(","))}"}`, 1]));
  metric("uptime_seconds", "gauge", "Seconds since the orchestrator started.", [["", s.uptimeSeconds]]);
  metric(
    "workers",
    "gauge",
    "Workers by state.",
    // Every instance counts here, a draining old one included.
    WORKER_STATES.map((st) => [`{state="${st}"}`, doc.workers.filter((x) => x.state === st).length]),
  );
  metric(
    "turns_total",
    "counter",
    "Turns (answered prompts) by final outcome.",
    s.workers.flatMap((x) =>
      (["completed", "failed", "cancelled", "interrupted"] as const).map((o): [string, number] => [`{${w(x.name)},outcome="${o}"}`, x.turns[o]]),
    ),
  );
  metric("turns_running", "gauge", "Turns running now.", s.workers.map((x) => [`{${w(x.name)}}`, x.turnsRunning]));
  metric("turns_queued", "gauge", "Prompts waiting for a free session slot.", s.workers.map((x) => [`{${w(x.name)}}`, x.turnsQueued]));
  metric("worker_restarts_total", "counter", "Worker restarts after failures.", s.workers.map((x) => [`{${w(x.name)}}`, x.restarts]));
  metric("relay_batches_total", "counter", "Output batches written to the backend.", s.workers.map((x) => [`{${w(x.name)}}`, x.relayBatches]));
  const usage = (x: Row) => x.usage ?? emptyUsage();
  const TOKEN_KINDS = [["input", "input"], ["output", "output"], ["reasoning", "reasoning"], ["cacheRead", "cache_read"], ["cacheWrite", "cache_write"]] as const;
  metric(
    "tokens_total",
    "counter",
    "Tokens the worker's turns used, by kind, as OpenCode reported them.",
    s.workers.flatMap((x) => TOKEN_KINDS.map(([k, kind]): [string, number] => [`{${w(x.name)},kind="${kind}"}`, usage(x).total[k]])),
  );
  metric("cost_usd_total", "counter", "Cost in US dollars of the worker's turns, as OpenCode priced them.", s.workers.map((x) => [`{${w(x.name)}}`, usage(x).total.cost]));
  metric("cost_today_usd", "gauge", "Cost in US dollars of the worker's turns today (the UTC day).", s.workers.map((x) => [`{${w(x.name)}}`, usage(x).today.cost]));
  metric("heartbeat_failures_total", "counter", "Heartbeats that failed.", s.workers.map((x) => [`{${w(x.name)}}`, x.heartbeatsFailed]));
  metric(
    "heartbeat_age_seconds",
    "gauge",
    "Seconds since the last successful heartbeat (absent before the first).",
    s.workers.filter((x) => x.lastHeartbeatAgeSeconds !== null).map((x) => [`{${w(x.name)}}`, x.lastHeartbeatAgeSeconds!]),
  );
  metric("backend_connected", "gauge", "1 when the worker's backend connection is up.", s.workers.map((x) => [`{${w(x.name)}}`, x.backendConnected ? 1 : 0]));
  metric("config_reloads_total", "counter", "Config reloads by result.", [
    [`{result="ok"}`, s.reloads.ok],
    [`{result="rejected"}`, s.reloads.failed],
  ]);
  return out.join("\n") + "\n";
}
