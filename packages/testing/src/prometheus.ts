import parsePrometheusTextFormat from "parse-prometheus-text-format";

/** One sample of a counter or gauge, or one histogram series, as prom2json gives it. */
export interface PromSample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface PromFamily {
  name: string;
  help: string;
  type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
  metrics: PromSample[];
}

/**
 * Parses Prometheus text exposition with a parser that is not ours (a port of prom2json's and
 * client_python's), so a malformed line fails the test rather than being read as we meant it.
 */
export function parsePrometheus(text: string): Map<string, PromFamily> {
  const families = parsePrometheusTextFormat(text) as PromFamily[];
  return new Map(families.map((family) => [family.name, family]));
}

/** The sum of a counter's or gauge's samples whose labels include `match` (all samples without one). */
export function promSum(families: Map<string, PromFamily>, name: string, match: Record<string, string> = {}): number {
  const family = families.get(name);
  if (family === undefined) throw new Error(`no metric ${name} (have: ${[...families.keys()].join(", ")})`);
  return family.metrics
    .filter((sample) => Object.entries(match).every(([key, value]) => sample.labels?.[key] === value))
    .reduce((sum, sample) => sum + Number(sample.value ?? sample.count ?? 0), 0);
}
