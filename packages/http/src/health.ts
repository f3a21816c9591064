import { HttpClientError } from "./errors.ts";
import type { Origin } from "./origin.ts";

export interface HealthResult {
  /** The upstream answered 2xx. */
  ok: boolean;
  /** Its status, or 0 when it could not be asked. */
  status: number;
  /** The load statistics in its body, when it sent some we understand. */
  load?: { total: number; errors: number };
  /** Why it could not be asked (connect refused, timeout, …), when status is 0. */
  error?: string;
}

/** Health bodies are small; more than this is not read (the connection is dropped instead). */
export const MAX_HEALTH_BODY_BYTES = 4096;

/** GETs `path` within `timeoutMs` (head and body together); never throws. */
export async function checkHealth(origin: Origin, path: string, timeoutMs: number): Promise<HealthResult> {
  const started = performance.now();
  try {
    const response = await origin.request({ method: "GET", target: path, headers: [], body: null, timeoutMs });
    const ok = response.status >= 200 && response.status <= 299;
    const left = Math.max(timeoutMs - (performance.now() - started), 1);
    const text = response.body === null ? "" : await readBounded(response.body, MAX_HEALTH_BODY_BYTES, left);
    const load = text === undefined ? undefined : parseLoad(text);
    return load === undefined ? { ok, status: response.status } : { ok, status: response.status, load };
  } catch (error) {
    return { ok: false, status: 0, error: error instanceof HttpClientError ? error.message : String(error) };
  }
}

/**
 * Load statistics from a health body: JSON {"requests"|"total": n, "errors": n}, or the classic
 * two lines "<errors>\n<total>\n" of the CSE130 load balancer assignment (seeds/001). Anything
 * else is no statistics, not an unhealthy upstream.
 */
export function parseLoad(text: string): { total: number; errors: number } | undefined {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return undefined;
    }
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const fields = parsed as Record<string, unknown>;
    const total = fields.total ?? fields.requests;
    const errors = fields.errors;
    return isCount(total) && isCount(errors) ? { total, errors } : undefined;
  }
  const lines = /^(\d{1,15})[ \t]*\r?\n[ \t]*(\d{1,15})$/.exec(trimmed);
  if (lines === null) return undefined;
  return { errors: Number(lines[1]), total: Number(lines[2]) };
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** The body as text if it ends within `maxBytes` and `timeoutMs`; undefined (and cancelled) otherwise. */
async function readBounded(body: ReadableStream<Uint8Array>, maxBytes: number, timeoutMs: number): Promise<string | undefined> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: Timer | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timeout]);
      if (next === "timeout") return undefined;
      if (next.done) return new TextDecoder().decode(Buffer.concat(chunks));
      size += next.value.length;
      if (size > maxBytes) return undefined;
      chunks.push(next.value);
    }
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
}
