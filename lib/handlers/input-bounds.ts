/**
 * Bounds checked at the edge, on the raw event, before validation or any write: identifiers that
 * become DynamoDB keys (hash key ≤ 2,048 bytes, sort key ≤ 1,024 bytes) get far smaller limits,
 * and nesting depth is measured iteratively, before anything recursive (zod, JSON.stringify) runs.
 */

/** The longest each identifier may be, in UTF-8 bytes. */
export const ID_LIMITS = {
  eventId: 256,
  worldId: 128,
  version: 256,
  idempotencyKey: 512,
  hash: 256,
  correlationId: 512,
  marketScope: 128,
  strategyId: 128,
} as const;
/** Deepest nesting of objects and arrays an event may have (real snapshots nest ~6 levels). */
export const MAX_NESTING_DEPTH = 32;

/** Depth of nested objects/arrays, counted without recursion; stops counting past `limit`. */
export function nestingDepth(value: unknown, limit = MAX_NESTING_DEPTH): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return deepest;
}

const bytes = (s: string) => Buffer.byteLength(s);

function tooLong(path: string, value: unknown, limit: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const n = bytes(value);
  return n > limit ? `${path}: ${n} bytes, over the ${limit}-byte limit for this identifier` : undefined;
}

function keysTooLong(path: string, value: unknown, limit: number): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: string[] = [];
  for (const key of Object.keys(value)) {
    if (bytes(key) > limit)
      out.push(
        `${path}["${key.slice(0, 40)}…"]: key of ${bytes(key)} bytes, over the ${limit}-byte limit for a strategy id`,
      );
  }
  return out;
}

/**
 * Every bound the raw EventBridge event breaks, as `path: problem` lines (empty when none). Only
 * identifiers are checked here; shapes are the schema's job, after this.
 */
export function boundViolations(raw: unknown): string[] {
  const depth = nestingDepth(raw);
  if (depth > MAX_NESTING_DEPTH)
    return [`event: nested deeper than ${MAX_NESTING_DEPTH} levels; refused before parsing`];
  const e = (raw ?? {}) as Record<string, unknown>;
  const detail = (e.detail ?? {}) as Record<string, unknown>;
  const data = (typeof detail === 'object' && detail !== null ? (detail.data ?? {}) : {}) as Record<
    string,
    unknown
  >;
  const found = [
    tooLong('id', e.id, ID_LIMITS.eventId),
    tooLong('detail.id', detail.id, ID_LIMITS.eventId),
    tooLong('detail.correlation_id', detail.correlation_id, ID_LIMITS.correlationId),
    tooLong('detail.data.world_id', data.world_id, ID_LIMITS.worldId),
    tooLong('detail.data.version', data.version, ID_LIMITS.version),
    tooLong('detail.data.idempotency_key', data.idempotency_key, ID_LIMITS.idempotencyKey),
    tooLong('detail.data.hash', data.hash, ID_LIMITS.hash),
    tooLong('detail.data.scope', data.scope, ID_LIMITS.marketScope),
    tooLong('detail.data.market_scope', data.market_scope, ID_LIMITS.marketScope),
    tooLong('detail.data.market_event_id', data.market_event_id, ID_LIMITS.eventId),
  ].filter((x): x is string => x !== undefined);
  if (Array.isArray(data.worlds)) {
    data.worlds.forEach((w, i) => {
      const v = tooLong(`detail.data.worlds[${i}]`, w, ID_LIMITS.worldId);
      if (v) found.push(v);
    });
  }
  for (const field of ['weights', 'realized_returns', 'stress'] as const)
    found.push(...keysTooLong(`detail.data.${field}`, data[field], ID_LIMITS.strategyId));
  return found;
}
