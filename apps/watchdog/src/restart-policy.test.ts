import { expect, test } from "bun:test";
import { createRestartPolicy } from "./restart-policy.ts";

function policyAt(clock: { t: number }) {
  return createRestartPolicy({ windowMs: 10_000, maxRestarts: 5, initialDelayMs: 1000, maxDelayMs: 15_000, now: () => clock.t });
}

test("the first five deaths within 10 s restart at once", () => {
  const clock = { t: 0 };
  const policy = policyAt(clock);
  for (let i = 0; i < 5; i++) {
    clock.t += 100;
    expect(policy.next().delayMs).toBe(0);
  }
});

test("a crash loop backs off exponentially, capped at 15 s", () => {
  const clock = { t: 0 };
  const policy = policyAt(clock);
  for (let i = 0; i < 5; i++) policy.next();
  const delays: number[] = [];
  for (let i = 0; i < 7; i++) {
    const { delayMs } = policy.next();
    delays.push(delayMs);
    clock.t += delayMs + 50; // It dies 50 ms after each restart.
  }
  expect(delays).toEqual([1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
});

test("a child that stays up for a whole window is forgiven", () => {
  const clock = { t: 0 };
  const policy = policyAt(clock);
  for (let i = 0; i < 6; i++) policy.next();
  clock.t += 1000 + 10_000; // Restarted after 1 s, then up for 10 s.
  expect(policy.next().delayMs).toBe(0);
});
