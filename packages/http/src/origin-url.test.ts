import { expect, test } from "bun:test";
import { parseOriginUrl } from "./origin-url.ts";

test("accepts http origins and unix socket paths", () => {
  expect(parseOriginUrl("http://127.0.0.1:8080")).toEqual({ kind: "tcp", host: "127.0.0.1", port: 8080, label: "http://127.0.0.1:8080", hostHeader: "127.0.0.1:8080" });
  expect(parseOriginUrl("http://Example.COM/")).toMatchObject({ host: "example.com", port: 80, hostHeader: "example.com" });
  expect(parseOriginUrl("http://[::1]:9000")).toMatchObject({ host: "::1", port: 9000, hostHeader: "[::1]:9000" });
  expect(parseOriginUrl("unix:/run/app.sock")).toEqual({ kind: "unix", path: "/run/app.sock", label: "unix:/run/app.sock", hostHeader: "localhost" });
});

test("rejects https, paths, queries, fragments, credentials and non-URLs with bad_url", () => {
  for (const url of ["https://a:1", "http://a:1/path", "http://a:1/?x=1", "http://a:1?", "http://a:1#f", "http://u:p@a:1", "ftp://a", "127.0.0.1:80", "", "unix:"]) {
    expect(() => parseOriginUrl(url)).toThrow(expect.objectContaining({ code: "bad_url" }));
  }
});
