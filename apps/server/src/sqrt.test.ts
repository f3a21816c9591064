import { expect, test } from "bun:test";
import { RequestError } from "@switchyard/net";
import { validateSqrtRequest } from "./sqrt.ts";

test("a well-formed request passes", () => {
  expect(validateSqrtRequest({ client: 107, value: 16 })).toEqual({ client: 107, value: 16 });
});

test.each([
  [null, "body"],
  [{ value: 4 }, "client"],
  [{ client: 0, value: 4 }, "client"],
  [{ client: 1.5, value: 4 }, "client"],
  [{ client: 1, value: -4 }, "value"],
  [{ client: 1, value: "4" }, "value"],
  [{ client: 1, value: Number.NaN }, "value"],
])("%p is a bad_request about the %s", (body, field) => {
  let error: unknown;
  try {
    validateSqrtRequest(body);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(RequestError);
  expect((error as RequestError).code).toBe("bad_request");
  expect((error as RequestError).message).toContain(field);
});
