/**
 * DynamoDB refuses NaN and ±Infinity, and a risk number can be either when its inputs are
 * degenerate. Stored evidence keeps such a number as null (the audit record still says why in its
 * `unavailable` text) rather than failing the whole write.
 */
export function toStorable<T>(value: T): T {
  return sanitize(value) as T;
}

function sanitize(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(sanitize);
  if (ArrayBuffer.isView(value))
    return Array.from(value as unknown as ArrayLike<number>, (x) => (Number.isFinite(x) ? x : null));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = sanitize(v);
    return out;
  }
  return value;
}
