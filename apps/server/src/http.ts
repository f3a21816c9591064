import { type HttpExchangeRequest, type HttpExchangeResponse, jsonAnswer, pathOf } from "@switchyard/upstream";
import { type RawBody, preEncode } from "@switchyard/wire";

/** An answer and its status (for the log); constant answers are encoded once, as RawBody. */
export interface HttpAnswer {
  status: number;
  body: HttpExchangeResponse | RawBody;
}

/** The HTTP endpoints of seeds/002 Task 1, for the server numbered `id`. */
export interface HttpEndpoints {
  answer(request: HttpExchangeRequest): HttpAnswer;
}

const ALLOW: [string, string] = ["allow", "GET, HEAD"];

export function createHttpEndpoints(id: number): HttpEndpoints {
  const routes = new Map<string, { get: HttpAnswer; head: HttpAnswer }>();
  const route = (path: string, answer: HttpExchangeResponse) => {
    // HEAD: the GET's headers, its length included, without the body (RFC 9110 §9.3.2).
    const head: HttpExchangeResponse = { status: answer.status, headers: [...answer.headers, ["content-length", String(answer.body?.length ?? 0)]] };
    routes.set(path, { get: { status: answer.status, body: preEncode(answer) }, head: { status: head.status, body: preEncode(head) } });
  };
  route("/home", jsonAnswer(200, `Hello from Server: ${id}`));
  route("/heartbeat", { status: 200, headers: [] });
  return {
    answer(request) {
      const path = pathOf(request.target);
      const found = routes.get(path);
      if (found === undefined) return { status: 400, body: jsonAnswer(400, `<Error> '${path}' endpoint does not exist in server replicas`) };
      if (request.method === "GET") return found.get;
      if (request.method === "HEAD") return found.head;
      return { status: 405, body: jsonAnswer(405, `<Error> method ${request.method} is not allowed on '${path}'`, [ALLOW]) };
    },
  };
}
