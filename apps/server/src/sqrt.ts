import { RequestError } from "@switchyard/net";

export interface SqrtRequest {
  client: number;
  value: number;
}

/** The body every hop carries for op "sqrt"; anything else is a bad request. */
export function validateSqrtRequest(body: unknown): SqrtRequest {
  const b = body as Partial<SqrtRequest> | null;
  if (typeof b !== "object" || b === null) throw new RequestError("bad_request", "sqrt needs a body {client, value}");
  if (!Number.isSafeInteger(b.client) || (b.client as number) < 1) {
    throw new RequestError("bad_request", "client must be a positive integer");
  }
  if (typeof b.value !== "number" || !Number.isFinite(b.value) || b.value < 0) {
    throw new RequestError("bad_request", "value must be a finite, non-negative number");
  }
  return { client: b.client as number, value: b.value };
}
