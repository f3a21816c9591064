import { describe, expect, test } from "bun:test";
import { NetError, type Peer, RequestError } from "@switchyard/net";
import { Admission } from "./admission.ts";
import { AttemptCounts } from "./hop-stats.ts";
import { MAX_ATTEMPTS, forward, innerBudget } from "./forward.ts";
import type { Upstream } from "./member.ts";
import { makePolicy } from "./conformance.ts";
import { clientId } from "./policies/client-id.ts";

const clientIdPolicy = () => makePolicy(clientId);

/** An upstream whose requests answer (or fail) as the script says, recording passive failures. */
function scripted(n: number, answer: (op: string, timeoutMs: number) => Promise<unknown>): Upstream & { calls: number; failures: unknown[] } {
  const upstream = {
    n,
    label: `Proxy #${n}`,
    calls: 0,
    failures: [] as unknown[],
    available: true,
    alive: true,
    inflight: 0,
    load: undefined,
    counts: new AttemptCounts(),
    sent(retry = false) {
      upstream.counts.requests++;
      if (retry) upstream.counts.retries++;
    },
    failed(error: unknown) {
      upstream.failures.push(error);
    },
    peer: {
      request: (op: string, _body: unknown, timeoutMs: number) => {
        upstream.calls++;
        return answer(op, timeoutMs);
      },
    } as unknown as Peer, // forward() uses only `request`.
  };
  return upstream;
}

const noHooks = { noun: "reverse proxy", onAttempt() {} };

describe("forward", () => {
  test("answers from the upstream the policy picks", async () => {
    const a = scripted(1, async () => ({ result: 4 }));
    const b = scripted(2, async () => ({ result: 0 }));
    expect(await forward([a, b], clientIdPolicy(), 107, "sqrt", {}, 1000, noHooks)).toEqual({ result: 4 });
    expect(b.calls).toBe(0);
  });

  test("a request lost on the way is retried on the next live upstream, and the hook says so", async () => {
    const a = scripted(1, async () => {
      throw new NetError("connection_lost", "connection reset");
    });
    const b = scripted(2, async () => ({ result: 4 }));
    const attempts: string[] = [];
    const answer = await forward([a, b], clientIdPolicy(), 107, "sqrt", {}, 1000, {
      noun: "reverse proxy",
      onAttempt(u, previous) {
        attempts.push(`${u.label}${previous ? ` after ${previous.upstream.label}: ${previous.error.code}` : ""}`);
      },
    });
    expect(answer).toEqual({ result: 4 });
    expect(attempts).toEqual(["Proxy #1", "Proxy #2 after Proxy #1: connection_lost"]);
    // For metrics: each upstream was sent one attempt, and the second one was a retry.
    expect([a.counts.requests, a.counts.retries, b.counts.requests, b.counts.retries]).toEqual([1, 0, 1, 1]);
  });

  test("an error a handler answered with is passed through, not retried", async () => {
    const a = scripted(1, async () => {
      throw new NetError("remote", "client must be a positive integer", "bad_request");
    });
    const b = scripted(2, async () => ({ result: 4 }));
    await expect(forward([a, b], clientIdPolicy(), 1, "sqrt", {}, 1000, noHooks)).rejects.toMatchObject({ remoteCode: "bad_request" });
    expect(b.calls).toBe(0);
  });

  test("every upstream failing gives 'unavailable' naming the last failure, after trying each once", async () => {
    const fail = async () => {
      throw new NetError("unavailable", "connection refused");
    };
    const a = scripted(1, fail);
    const b = scripted(2, fail);
    const error = await forward([a, b], clientIdPolicy(), 1, "sqrt", {}, 1000, noHooks).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).code).toBe("unavailable");
    expect((error as RequestError).message).toContain("connection refused");
    expect([a.calls, b.calls]).toEqual([1, 1]);
    expect(a.failures.length + b.failures.length).toBe(2); // both reported to passive health
  });

  test(`at most ${MAX_ATTEMPTS} attempts, each on an upstream not tried before`, async () => {
    const fail = async () => {
      throw new NetError("connection_lost", "connection reset");
    };
    const pool = [1, 2, 3, 4, 5].map((n) => scripted(n, fail));
    const error = await forward(pool, clientIdPolicy(), 1, "sqrt", {}, 1000, noHooks).catch((e: unknown) => e);
    expect((error as RequestError).message).toMatch(/3 attempts failed; last: Proxy #3/);
    expect(pool.map((u) => u.calls)).toEqual([1, 1, 1, 0, 0]);
  });

  test("nothing available is a clear error naming what is missing, at once", async () => {
    const a = scripted(1, async () => ({}));
    Object.assign(a, { available: false, alive: false });
    const error = await forward([a], clientIdPolicy(), 1, "sqrt", {}, 1000, noHooks).catch((e: unknown) => e);
    expect((error as RequestError).code).toBe("unavailable");
    expect((error as RequestError).message).toBe("no reverse proxy available");
  });
});

describe("innerBudget", () => {
  test("gives the next hop a little less than the caller's budget", () => {
    expect(innerBudget(1000, 5000)).toBeLessThan(1000);
    expect(innerBudget(1000, 5000)).toBeGreaterThan(900);
    expect(innerBudget(undefined, 5000)).toBeLessThan(5000);
    expect(innerBudget(1, 5000)).toBe(1);
  });
});

describe("a hung upstream", () => {
  test("costs half the budget, then the request fails over to another upstream", async () => {
    let budgetSeen = 0;
    const hungWithBudget = scripted(1, (_op, timeoutMs) => {
      budgetSeen = timeoutMs;
      return Promise.reject(new NetError("timeout", "no answer within the deadline"));
    });
    const healthy = scripted(2, async () => ({ result: 4 }));
    expect(await forward([hungWithBudget, healthy], clientIdPolicy(), 1, "sqrt", {}, 1000, noHooks)).toEqual({ result: 4 });
    expect(budgetSeen).toBeGreaterThan(400);
    expect(budgetSeen).toBeLessThanOrEqual(500);
  });
});

describe("a request that changes state (not idempotent)", () => {
  test("is not retried after a lost connection or a timeout: the first upstream may have done it", async () => {
    for (const code of ["connection_lost", "timeout"] as const) {
      const a = scripted(1, async () => {
        throw new NetError(code, "gone");
      });
      const b = scripted(2, async () => ({ done: true }));
      const error = await forward([a, b], clientIdPolicy(), 1, "reserve", {}, 1000, { ...noHooks, idempotent: false }).catch((e: unknown) => e);
      expect((error as NetError).code).toBe(code);
      expect(b.calls).toBe(0);
    }
  });

  test("is retried when the first upstream surely never ran it (not connected, or refused it while draining)", async () => {
    for (const error of [new NetError("unavailable", "connection refused"), new NetError("remote", "draining", "shutting_down")]) {
      const a = scripted(1, async () => {
        throw error;
      });
      const b = scripted(2, async () => ({ done: true }));
      expect(await forward([a, b], clientIdPolicy(), 1, "reserve", {}, 1000, { ...noHooks, idempotent: false })).toEqual({ done: true });
    }
  });
});

describe("with in-flight limits", () => {
  test("a request finds every live upstream full, waits in the queue, and goes out when a slot frees", async () => {
    const a = scripted(1, async () => ({ result: 4 }));
    Object.assign(a, { available: false }); // alive but at its limit
    const admission = new Admission(1, 10);
    const answer = forward([a], clientIdPolicy(), 1, "sqrt", {}, 1000, { ...noHooks, admission });
    expect(admission.queued).toBe(1);
    Object.assign(a, { available: true });
    admission.release();
    expect(await answer).toEqual({ result: 4 });
  });

  test("a full queue answers overloaded at once; a wait past the deadline is a timeout", async () => {
    const a = scripted(1, async () => ({ result: 4 }));
    Object.assign(a, { available: false });
    const admission = new Admission(1, 1);
    const waiting = forward([a], clientIdPolicy(), 1, "sqrt", {}, 30, { ...noHooks, admission }).catch((e: unknown) => e);
    const refused = await forward([a], clientIdPolicy(), 2, "sqrt", {}, 1000, { ...noHooks, admission }).catch((e: unknown) => e);
    expect((refused as RequestError).code).toBe("overloaded");
    expect((refused as RequestError).message).toMatch(/every reverse proxy has 1 requests in flight and 1 more are queued/);
    expect(((await waiting) as RequestError).code).toBe("timeout");
    expect(admission.queued).toBe(0);
  });

  test("with no live upstream at all the answer is unavailable, not a wait", async () => {
    const a = scripted(1, async () => ({}));
    Object.assign(a, { available: false, alive: false });
    const error = await forward([a], clientIdPolicy(), 1, "sqrt", {}, 1000, { ...noHooks, admission: new Admission(1, 10) }).catch((e: unknown) => e);
    expect((error as RequestError).code).toBe("unavailable");
  });
});
