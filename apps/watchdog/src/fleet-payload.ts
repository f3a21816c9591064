import { RequestError } from "@switchyard/net";

/** What /add asks for, checked for shape only (fleet.ts checks it against the fleet). */
export interface AddPayload {
  n: number;
  hostnames: string[];
  /** The reverse proxy the new servers go under; undefined: the least loaded. */
  proxy: number | undefined;
}

export interface RemovePayload {
  n: number;
  hostnames: string[];
}

/** Like a container name (the seed's hostnames): no leading "-", so it can never pass for a flag on a command line. */
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,61}[A-Za-z0-9._-])?$/;

/** The seed's error answers all start with "<Error> "; the load balancer shows the message as is. */
export function badRequest(message: string): RequestError {
  return new RequestError("bad_request", `<Error> ${message}`);
}

/** A user's value inside a message, cut short so a huge payload cannot make a huge answer. */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 70 ? `${text.slice(0, 67)}...` : text;
}

export function parseAddPayload(body: unknown): AddPayload {
  const fields = objectWith(body, ["n", "hostnames", "proxy"]);
  const n = count(fields.n);
  const hostnames = names(fields.hostnames, n, "newly added instances");
  const proxy = fields.proxy ?? undefined;
  if (proxy !== undefined && (!Number.isSafeInteger(proxy) || (proxy as number) < 1)) {
    throw badRequest(`proxy must be the number of a reverse proxy, got ${show(proxy)}`);
  }
  return { n, hostnames, proxy: proxy as number | undefined };
}

export function parseRemovePayload(body: unknown): RemovePayload {
  const fields = objectWith(body, ["n", "hostnames"]);
  const n = count(fields.n);
  return { n, hostnames: names(fields.hostnames, n, "removable instances") };
}

function objectWith(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest(`the payload must be a JSON object such as {"n": 2, "hostnames": ["S5", "S6"]}`);
  }
  // A misspelt field ("hostname") would otherwise be ignored silently and the wrong servers changed.
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw badRequest(`unknown field ${show(key)} (expected ${allowed.join(", ")})`);
  }
  return body as Record<string, unknown>;
}

function count(n: unknown): number {
  if (!Number.isSafeInteger(n) || (n as number) <= 0) throw badRequest("n must be a positive integer");
  return n as number;
}

/** `what` completes the seed's exact message for a list longer than n. */
function names(raw: unknown, n: number, what: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw badRequest(`hostnames must be a list of names such as ["S5", "S6"], got ${show(raw)}`);
  if (raw.length > n) throw badRequest(`Length of hostname list is more than ${what}`);
  const seen = new Set<string>();
  for (const name of raw) {
    if (typeof name !== "string" || !NAME.test(name)) {
      throw badRequest(
        `a hostname is 1 to 63 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit and not ending with a space; got ${show(name)}`,
      );
    }
    if (seen.has(name)) throw badRequest(`hostname ${show(name)} is listed twice`);
    seen.add(name);
  }
  return raw as string[];
}
