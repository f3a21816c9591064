import { describe, expect, test } from "bun:test";
import { type HttpExchangeRequest, type HttpExchangeResponse, validateHttpResponse } from "@switchyard/upstream";
import { RawBody, decodeValue } from "@switchyard/wire";
import { createHttpEndpoints } from "./http.ts";

const get = (target: string, method = "GET"): HttpExchangeRequest => ({ method, target, headers: [] });
const json = (body: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(body));

describe("the server's HTTP endpoints (seeds/002 Task 1)", () => {
  const created = createHttpEndpoints(3);
  // What a load balancer reads: constant answers travel as their pre-encoded bytes.
  const endpoints = {
    answer(request: HttpExchangeRequest): HttpExchangeResponse {
      const { status, body } = created.answer(request);
      const answer = validateHttpResponse(body instanceof RawBody ? decodeValue(body) : body);
      expect(answer.status).toBe(status);
      return answer;
    },
  };

  test("GET /home names the server, as the seed shows", () => {
    const answer = endpoints.answer(get("/home"));
    expect(answer.status).toBe(200);
    expect(json(answer.body)).toEqual({ message: "Hello from Server: 3", status: "successful" });
    expect(answer.headers).toContainEqual(["content-type", "application/json"]);
  });

  test("a query string does not change the endpoint", () => {
    expect(endpoints.answer(get("/home?x=1")).status).toBe(200);
  });

  test("GET /heartbeat is 200 with an empty body", () => {
    const answer = endpoints.answer(get("/heartbeat"));
    expect(answer.status).toBe(200);
    expect(answer.body).toBeUndefined();
  });

  test("HEAD answers the headers, with the GET's length, without the body", () => {
    const answer = endpoints.answer(get("/home", "HEAD"));
    expect(answer.status).toBe(200);
    expect(answer.body).toBeUndefined();
    expect(answer.headers).toContainEqual(["content-length", String(endpoints.answer(get("/home")).body!.length)]);
  });

  test("any other path is the seed's 400 failure", () => {
    const answer = endpoints.answer(get("/other"));
    expect(answer.status).toBe(400);
    expect(json(answer.body)).toEqual({ message: "<Error> '/other' endpoint does not exist in server replicas", status: "failure" });
  });

  test("another method on a known endpoint is 405 with Allow", () => {
    const answer = endpoints.answer(get("/home", "POST"));
    expect(answer.status).toBe(405);
    expect(answer.headers).toContainEqual(["allow", "GET, HEAD"]);
    expect(json(answer.body).status).toBe("failure");
  });
});
