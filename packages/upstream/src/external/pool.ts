import type { Logger } from "@switchyard/log";
import type { HealthOptions } from "../health.ts";
import { ExternalMember } from "./member.ts";

export interface ExternalPoolOptions {
  /** "http://host:port", in the order given; numbered 1… for hashing policies. */
  urls: readonly string[];
  health: HealthOptions;
  healthPath: string;
  log: Logger;
  random?: () => number;
}

export interface ExternalPool {
  readonly members: readonly ExternalMember[];
  close(): void;
}

/** The external HTTP upstreams of a reverse proxy (or of the load balancer in the flat topology). */
export function createExternalPool(options: ExternalPoolOptions): ExternalPool {
  const members = options.urls.map(
    (url, i) =>
      new ExternalMember({ n: i + 1, url, log: options.log, health: options.health, healthPath: options.healthPath, random: options.random ?? Math.random }),
  );
  return {
    members,
    close() {
      for (const member of members) member.close();
    },
  };
}
