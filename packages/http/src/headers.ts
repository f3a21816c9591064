/**
 * The proxy's header rules, as pure functions over [name, value] lists (names in any case).
 */

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1, plus the usual extras). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Drops the hop-by-hop headers and every header the Connection header names. */
export function stripHopByHop(headers: Array<[string, string]>): Array<[string, string]> {
  let named: Set<string> | undefined;
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== "connection") continue;
    for (const token of value.split(",")) {
      const trimmed = token.trim().toLowerCase();
      if (trimmed !== "") (named ??= new Set()).add(trimmed);
    }
  }
  return headers.filter(([name]) => {
    const lower = name.toLowerCase();
    return !HOP_BY_HOP.has(lower) && !(named?.has(lower) ?? false);
  });
}

export interface ForwardedInfo {
  /** The address the request came from (IPv6 without brackets). */
  clientAddress: string;
  proto: "http" | "https";
  /** The Host the client asked for, if any. */
  host: string | undefined;
  /** Used unless the request already carries a valid X-Request-Id. */
  requestId: string;
  /**
   * This hop is the edge, the first proxy the client reached: its own scheme and Host replace any
   * X-Forwarded-Proto/-Host the client sent (as nginx's `proxy_set_header`), so a client cannot
   * choose them. Inner hops keep the edge's values.
   */
  edge?: boolean;
}

const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Adds the forwarding headers: the client is appended to X-Forwarded-For (one combined header);
 * X-Forwarded-Proto and -Host are set only if absent, since the first hop's values are the true
 * ones; X-Request-Id is kept when valid (so one id follows a request through every hop),
 * replaced otherwise.
 */
export function addForwarded(headers: Array<[string, string]>, info: ForwardedInfo): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const forwardedFor: string[] = [];
  let hasProto = false;
  let hasHost = false;
  let requestId: string | undefined;
  for (const header of headers) {
    const lower = header[0].toLowerCase();
    if (lower === "x-forwarded-for") {
      const list = header[1].trim();
      if (list !== "") forwardedFor.push(list);
      continue;
    }
    if (lower === "x-request-id") {
      // Only the first one counts; duplicates are dropped so the upstream cannot see two ids.
      if (requestId === undefined && VALID_REQUEST_ID.test(header[1])) requestId = header[1];
      continue;
    }
    if (lower === "x-forwarded-proto" || lower === "x-forwarded-host") {
      if (info.edge) continue;
      if (lower === "x-forwarded-proto") hasProto = true;
      else hasHost = true;
    }
    out.push([header[0], header[1]]);
  }
  forwardedFor.push(info.clientAddress);
  out.push(["x-forwarded-for", forwardedFor.join(", ")]);
  if (!hasProto) out.push(["x-forwarded-proto", info.proto]);
  if (!hasHost && info.host !== undefined && info.host !== "") out.push(["x-forwarded-host", info.host]);
  out.push(["x-request-id", requestId ?? info.requestId]);
  return out;
}

/** Random per process, so ids from different processes and runs do not collide. */
const ID_PREFIX = Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString("hex");
let idCounter = 0;

/**
 * 16 hex digits: this process's random prefix and a counter. Short enough for log lines, unique
 * within a fleet, and a fraction of the cost of 64 fresh random bits per request.
 */
export function newRequestId(): string {
  idCounter = (idCounter + 1) >>> 0;
  return ID_PREFIX + idCounter.toString(16).padStart(8, "0");
}
