import { UpstreamError } from "../errors.ts";

/**
 * The options of a policy spec, `name:key=value,key=value` (e.g. `consistent-hash:slots=1024,hash=xxh32`).
 * Typed getters check each value; the registry then refuses any option the policy did not read.
 */
export class PolicyParams {
  private readonly read = new Set<string>();

  constructor(
    readonly policy: string,
    private readonly values: ReadonlyMap<string, string> = new Map(),
  ) {}

  /** Splits a spec into its name and options; throws UpstreamError on a malformed or repeated option. */
  static parse(spec: string): PolicyParams {
    const colon = spec.indexOf(":");
    const name = (colon < 0 ? spec : spec.slice(0, colon)).trim();
    const values = new Map<string, string>();
    if (colon >= 0) {
      for (const part of spec.slice(colon + 1).split(",")) {
        const eq = part.indexOf("=");
        const key = (eq < 0 ? "" : part.slice(0, eq)).trim();
        if (eq < 0 || key === "") throw new UpstreamError("bad_policy", `policy ${name}: option "${part}" is not key=value`);
        if (values.has(key)) throw new UpstreamError("bad_policy", `policy ${name}: option ${key} is given twice`);
        values.set(key, part.slice(eq + 1).trim());
      }
    }
    return new PolicyParams(name, values);
  }

  /** An integer option within [min, max]. */
  int(key: string, fallback: number, min: number, max: number): number {
    const raw = this.take(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) {
      throw new UpstreamError("bad_policy", `policy ${this.policy}: ${key} must be an integer from ${min} to ${max}, not "${raw}"`);
    }
    return value;
  }

  /** One of a fixed set of words. */
  choice<T extends string>(key: string, choices: readonly T[], fallback: T): T {
    const raw = this.take(key);
    if (raw === undefined) return fallback;
    const found = choices.find((c) => c === raw);
    if (found === undefined) throw new UpstreamError("bad_policy", `policy ${this.policy}: ${key} must be one of ${choices.join(", ")}, not "${raw}"`);
    return found;
  }

  /** Options whose key is an upstream number (`1=5,2=1`), as n → positive integer value. */
  perUpstream(min: number, max: number): Map<number, number> {
    const out = new Map<number, number>();
    for (const key of this.values.keys()) {
      if (!/^\d+$/.test(key)) continue;
      out.set(Number(key), this.int(key, 0, min, max));
    }
    return out;
  }

  /** Options given but never read: the registry reports them as unknown. */
  unread(): string[] {
    return [...this.values.keys()].filter((k) => !this.read.has(k));
  }

  private take(key: string): string | undefined {
    this.read.add(key);
    return this.values.get(key);
  }
}
