/** A float as the seed prints it: at least one decimal (4.0, -1.0), otherwise full precision (1.4142135623730951). */
export function formatFloat(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}
