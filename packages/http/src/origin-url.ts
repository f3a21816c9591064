import { HttpClientError } from "./errors.ts";

export type OriginAddress =
  | { kind: "tcp"; host: string; port: number; label: string; hostHeader: string }
  | { kind: "unix"; path: string; label: string; hostHeader: string };

/** "http://127.0.0.1:8080" or "unix:/run/app.sock" → where to connect; anything else is "bad_url". */
export function parseOriginUrl(url: string): OriginAddress {
  if (url.startsWith("unix:")) {
    const path = url.slice("unix:".length);
    if (path === "" || path.includes("\0")) throw bad(url, "empty or invalid socket path");
    // No authority on a unix socket; upstreams still require some Host on HTTP/1.1.
    return { kind: "unix", path, label: url, hostHeader: "localhost" };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad(url, "not a URL");
  }
  if (parsed.protocol !== "http:") throw bad(url, `scheme ${parsed.protocol} is not supported (only http: and unix:)`);
  if (parsed.username !== "" || parsed.password !== "") throw bad(url, "credentials are not allowed");
  // URL normalises "" to "/", so a bare origin and one with a trailing slash both pass.
  if (parsed.pathname !== "/" || parsed.search !== "" || parsed.hash !== "" || /[?#]/.test(url)) {
    throw bad(url, "must be an origin only, without a path, query or fragment");
  }
  if (parsed.hostname === "") throw bad(url, "no host");
  const port = parsed.port === "" ? 80 : Number(parsed.port);
  // URL keeps IPv6 hosts bracketed; the socket wants them bare, the Host header bracketed.
  const host = parsed.hostname.startsWith("[") ? parsed.hostname.slice(1, -1) : parsed.hostname;
  return { kind: "tcp", host, port, label: `http://${parsed.host}`, hostHeader: parsed.host };
}

function bad(url: string, why: string): HttpClientError {
  return new HttpClientError("bad_url", `bad upstream URL ${JSON.stringify(url)}: ${why}`);
}
