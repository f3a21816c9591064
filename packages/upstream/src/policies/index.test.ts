import { describe, expect, test } from "bun:test";
import { UpstreamError } from "../errors.ts";
import { POLICIES, createPolicy } from "./index.ts";

describe("createPolicy", () => {
  test("every listed policy is created from its bare name", () => {
    for (const factory of POLICIES) expect(createPolicy(factory.name)).toBeDefined();
  });

  test.each([
    ["nope", /unknown policy "nope" \(choose one of: client-id, consistent-hash, maglev/],
    ["random:x=1", /policy random has no option x \(it takes no options\)/],
    ["random:x", /option "x" is not key=value/],
    ["client-id:a=1,a=2", /option a is given twice/],
  ])("%s is refused with a clear message", (spec, message) => {
    const error = (() => {
      try {
        createPolicy(spec);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as Error).message).toMatch(message);
  });
});
