/**
 * The path and query of a request. Bun's `request.url` is absolute ("http://host/path?q"), but only
 * the path when the Host header cannot be part of a URL (`Host: a?b`): a client must not be able
 * to change the path the upstream sees through its Host header.
 */
export function targetOf(url: string): string {
  if (url.startsWith("/")) return url;
  const scheme = url.indexOf("//");
  const path = scheme < 0 ? -1 : url.indexOf("/", scheme + 2);
  return path < 0 ? "/" : url.slice(path);
}
