/** Why a sqrt value may not reach a server, or undefined when it may (the proxy answers -1 instead). */
export function illegalValueReason(value: unknown): string | undefined {
  if (typeof value !== "number") return "the value is not a number";
  if (!Number.isFinite(value)) return "the value is not finite";
  if (value < 0) return "the value is negative";
  return undefined;
}
