// TLS termination at the front door through the compiled flat fleet, with certificates made by
// openssl at test time: HTTPS answers, plain HTTP redirected (308), and the certificate reloaded on
// SIGHUP to the watchdog without dropping a connection that was already open.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { connect } from "node:tls";
import { Spawned, freeTcpPort, makeTempDir } from "@switchyard/testing";
import { CURL, skipCheck } from "./_http.ts";
import { cleanUpAfterEach, configFile, fleetFor } from "./_support.ts";

cleanUpAfterEach();

const OPENSSL = Bun.which("openssl");

/** A self-signed certificate for `name`, valid a day: its PEM files. */
async function certificate(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const run = new Spawned([OPENSSL!, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", `/CN=${name}`]);
  expect(await run.exited(30_000)).toBe(0);
  return { cert, key };
}

/** The certificate subject curl saw, and the answer's status and body. */
async function curlTls(url: string): Promise<{ subject: string | undefined; status: number; body: string }> {
  const run = new Spawned([CURL!, "--silent", "--insecure", "--verbose", "--noproxy", "*", "--max-time", "20", "--write-out", "\n%{http_code}", url]);
  await run.exited(30_000);
  const lines = run.stdoutText.trimEnd().split("\n");
  return { subject: /subject: CN ?= ?(\S+)/.exec(run.stderrLines.join("\n"))?.[1], status: Number(lines.at(-1)), body: lines.slice(0, -1).join("\n") };
}

/** One HTTP/1.1 keep-alive connection over TLS (node:tls), for requests one at a time. */
function tlsConnection(url: string) {
  const { hostname, port } = new URL(url);
  let received = "";
  let waiting: (() => void) | undefined;
  const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false });
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString("latin1");
    waiting?.();
  });
  return {
    async get(path: string): Promise<string> {
      received = "";
      const answered = new Promise<void>((resolve) => (waiting = () => /\r\n\r\n[^]*\}$/.test(received) && resolve()));
      socket.write(`GET ${path} HTTP/1.1\r\nHost: tls.local\r\n\r\n`);
      await Promise.race([answered, Bun.sleep(10_000)]);
      return received;
    },
    close: () => socket.end(),
  };
}

test("HTTPS at the front door: answers, redirects plain HTTP, and reloads its certificate on SIGHUP without dropping connections", async () => {
  if (OPENSSL === null || CURL === null) {
    skipCheck("TLS termination", "openssl or curl is not on PATH");
    return;
  }
  const dir = makeTempDir();
  const [one, two] = [await certificate(dir, "one.local"), await certificate(dir, "two.local")];
  const active = { cert: join(dir, "active.crt"), key: join(dir, "active.key") };
  await Bun.write(active.cert, Bun.file(one.cert));
  await Bun.write(active.key, Bun.file(one.key));
  const redirectPort = freeTcpPort();
  const fleet = await fleetFor([
    "--config",
    configFile(`
[watchdog]
proxies = 0
servers = 2

[load_balancer]
tls-cert = "${active.cert}"
tls-key = "${active.key}"
http-redirect-port = ${redirectPort}
`),
  ]);
  const base = fleet.httpUrl();
  expect(base).toStartWith("https://127.0.0.1:");

  const first = await curlTls(`${base}/home`);
  expect(first.subject).toBe("one.local");
  expect(first.status).toBe(200);
  expect(first.body).toMatch(/Hello from Server: \d/);

  // Plain HTTP on the redirect port: 308 to the same path and query on HTTPS.
  const plain = await fetch(`http://127.0.0.1:${redirectPort}/home?x=1`, { redirect: "manual" });
  expect(plain.status).toBe(308);
  expect(plain.headers.get("location")).toBe(`${base}/home?x=1`);

  // A connection opened before the reload keeps working after it; new ones get the new certificate.
  const open = tlsConnection(base);
  expect(await open.get("/home")).toMatch(/^HTTP\/1\.1 200 /);
  await Bun.write(active.cert, Bun.file(two.cert));
  await Bun.write(active.key, Bun.file(two.key));
  fleet.watchdog.proc.kill("SIGHUP");
  await fleet.watchdog.waitForLine(/\[Load Balancer\]: Received SIGHUP\. TLS certificate reloaded/);
  expect((await curlTls(`${base}/home`)).subject).toBe("two.local");
  expect(await open.get("/home")).toMatch(/^HTTP\/1\.1 200 /);
  open.close();

  // A broken certificate is refused and the working one stays.
  await Bun.write(active.cert, "not a certificate");
  fleet.watchdog.proc.kill("SIGHUP");
  await fleet.watchdog.waitForLine(/\[Load Balancer\]: Received SIGHUP\. TLS certificate not reloaded, the current one stays/);
  const after = await curlTls(`${base}/home`);
  expect([after.subject, after.status]).toEqual(["two.local", 200]);
});
