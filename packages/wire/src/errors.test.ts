import { expect, test } from "bun:test";
import { WireError } from "./errors.ts";

test("WireError is an Error with a code, a message and a request id that defaults to 0", () => {
  const error = new WireError("bad_frame", "frame is not valid MessagePack");
  expect(error).toBeInstanceOf(Error);
  expect(error.name).toBe("WireError");
  expect(error.code).toBe("bad_frame");
  expect(error.message).toBe("frame is not valid MessagePack");
  expect(error.requestId).toBe(0);
  expect(String(error)).toBe("WireError: frame is not valid MessagePack");
});

test("WireError keeps the request id it was given, so the sender can match the error", () => {
  expect(new WireError("bad_message", "req.op must be a string", 42).requestId).toBe(42);
});
