/**
 * Requests per second of Origin.request against fetch() on the same local upstream (a Bun.serve
 * answering a small JSON body, in its own process so it does not share the client's thread).
 * 32 requests in flight, ~3 s per run, the two clients interleaved twice; prints every run, the
 * medians and the ratio, and the client process's CPU time per request (fetch() does its I/O on
 * a thread of its own, so throughput alone flatters it on a small machine). Not a test.
 *
 *   node_modules/.bin/bun packages/http/bench/client.bench.ts [seconds=3] [rounds=2] [concurrency=32]
 */
import { Origin } from "../src/index.ts";

if (process.argv[2] === "--serve") {
  const body = JSON.stringify({ ok: true, id: 12345, name: "switchyard", tags: ["a", "b", "c"] });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response(body, { headers: { "content-type": "application/json" } }),
  });
  console.log(server.port);
} else {
  await main();
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 3);
  const rounds = Number(process.argv[3] ?? 2);
  const concurrency = Number(process.argv[4] ?? 32);
  const server = Bun.spawn([process.execPath, import.meta.path, "--serve"], { stdout: "pipe", stderr: "inherit" });
  try {
    const port = Number((await readFirstLine(server.stdout)).trim());
    const url = `http://127.0.0.1:${port}`;
    const origin = new Origin({ url });
    const decoder = new TextDecoder();
    const clients: Record<string, () => Promise<number>> = {
      "Origin.request": async () => {
        const res = await origin.request({ method: "GET", target: "/item?id=1", headers: [["accept", "application/json"]], body: null, timeoutMs: 5000 });
        let text = "";
        if (res.body !== null) for await (const chunk of res.body) text += decoder.decode(chunk, { stream: true });
        if (res.status !== 200 || text.length === 0) throw new Error(`bad answer ${res.status}`);
        return text.length;
      },
      "fetch()": async () => {
        const res = await fetch(`${url}/item?id=1`, { headers: { accept: "application/json" } });
        const text = await res.text();
        if (res.status !== 200 || text.length === 0) throw new Error(`bad answer ${res.status}`);
        return text.length;
      },
    };
    // Warm up both (JIT, connection pools) before anything is measured.
    for (const run of Object.values(clients)) await measure(run, 0.5, concurrency);
    const results: Record<string, Array<{ rps: number; cpuUs: number }>> = {};
    for (let round = 0; round < rounds; round++) {
      for (const [name, run] of Object.entries(clients)) {
        const result = await measure(run, seconds, concurrency);
        (results[name] ??= []).push(result);
        console.log(`round ${round + 1}  ${name.padEnd(15)} ${result.rps.toFixed(0).padStart(7)} req/s  ${result.cpuUs.toFixed(1).padStart(5)} µs CPU/req`);
      }
    }
    const summary = (name: string) => {
      const runs = results[name] ?? [];
      return { rps: median(runs.map((r) => r.rps)), cpuUs: median(runs.map((r) => r.cpuUs)) };
    };
    const ours = summary("Origin.request");
    const theirs = summary("fetch()");
    console.log(`median  Origin.request ${ours.rps.toFixed(0)} req/s (${ours.cpuUs.toFixed(1)} µs CPU/req), fetch() ${theirs.rps.toFixed(0)} req/s (${theirs.cpuUs.toFixed(1)} µs CPU/req)`);
    console.log(`ratio   Origin.request / fetch(): ${(ours.rps / theirs.rps).toFixed(2)}x throughput, ${(ours.cpuUs / theirs.cpuUs).toFixed(2)}x CPU per request`);
    origin.close();
  } finally {
    server.kill();
    await server.exited;
  }
}

/** Requests per second, and client CPU µs per request, with `concurrency` loops running `run` back to back for `seconds`. */
async function measure(run: () => Promise<number>, seconds: number, concurrency: number): Promise<{ rps: number; cpuUs: number }> {
  let done = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const until = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < until) {
      await run();
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const used = process.cpuUsage(cpu);
  return { rps: done / ((performance.now() - started) / 1000), cpuUs: (used.user + used.system) / done };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function readFirstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const next = await reader.read();
    if (next.done) throw new Error("the server exited before printing its port");
    text += new TextDecoder().decode(next.value);
  }
  reader.releaseLock();
  return text;
}
