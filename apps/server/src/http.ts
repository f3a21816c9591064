import { type HttpExchangeRequest, type HttpExchangeResponse, jsonAnswer, pathOf } from "@switchyard/upstream";

/** The HTTP endpoints of seeds/002 Task 1, for the server numbered `id`. */
export interface HttpEndpoints {
  answer(request: HttpExchangeRequest): HttpExchangeResponse;
}

const ALLOW: [string, string] = ["allow", "GET, HEAD"];

export function createHttpEndpoints(id: number): HttpEndpoints {
  // Both answers never change: encode them once.
  const home = jsonAnswer(200, `Hello from Server: ${id}`);
  const heartbeat: HttpExchangeResponse = { status: 200, headers: [] };
  const routes = new Map([
    ["/home", home],
    ["/heartbeat", heartbeat],
  ]);
  return {
    answer(request) {
      const path = pathOf(request.target);
      const found = routes.get(path);
      if (found === undefined) return jsonAnswer(400, `<Error> '${path}' endpoint does not exist in server replicas`);
      if (request.method === "GET") return found;
      // HEAD: the GET's headers, its length included, without the body (RFC 9110 §9.3.2).
      if (request.method === "HEAD") return { status: found.status, headers: [...found.headers, ["content-length", String(found.body?.length ?? 0)]] };
      return jsonAnswer(405, `<Error> method ${request.method} is not allowed on '${path}'`, [ALLOW]);
    },
  };
}
