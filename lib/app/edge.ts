/**
 * Edge validation, once for every way an event comes in: the Lambda handlers, `exit-engine replay`
 * and the local stack all validate with the same schemas, apply the same size bound and file a
 * malformed event under the world it names. The schemas live one per event kind (snapshot-edge.ts,
 * market-edge.ts, market-reevaluation-edge.ts): zod builds a schema when its module loads, so each
 * function's cold start builds only the one it receives (issue 12 item 5).
 */

/** EventBridge's own cap on an event; a bigger detail can only come from a misbehaving local producer. */
export const MAX_EVENT_BYTES = 256 * 1024;

/** The rejection reason for a detail over EventBridge's size limit, or undefined when it fits. */
export function oversizeReason(detail: unknown): string | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(detail));
  return bytes > MAX_EVENT_BYTES
    ? `detail: ${bytes} bytes, over EventBridge's ${MAX_EVENT_BYTES}-byte limit; send large inputs by *_ref`
    : undefined;
}

/** Which of the accepted shapes a JSON value is: an EventBridge event, a CloudEvent or a bare snapshot. */
export function inputShape(value: unknown): 'eventbridge' | 'cloudevent' | 'snapshot' | 'unknown' {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'unknown';
  const v = value as Record<string, unknown>;
  if ('detail-type' in v && 'detail' in v) return 'eventbridge';
  if ('specversion' in v && 'data' in v) return 'cloudevent';
  if ('weights' in v || 'world_id' in v) return 'snapshot';
  return 'unknown';
}

/**
 * Best-effort facts from an event that failed validation, for its rejection record: the envelope's
 * id and time when they are strings, and the world it names (in an EventBridge event's detail, a
 * CloudEvent's data or a bare snapshot), so the rejection is filed under that world.
 */
export function rawFacts(raw: unknown): { id?: string; time?: string; worldId?: string } {
  const e = (raw ?? {}) as Record<string, unknown>;
  const detail = (typeof e.detail === 'object' && e.detail !== null ? e.detail : e) as Record<
    string,
    unknown
  >;
  const data = (typeof detail.data === 'object' && detail.data !== null ? detail.data : detail) as Record<
    string,
    unknown
  >;
  return {
    ...(typeof e.id === 'string' ? { id: e.id } : {}),
    ...(typeof e.time === 'string' ? { time: e.time } : {}),
    ...(typeof data.world_id === 'string' && data.world_id !== '' ? { worldId: data.world_id } : {}),
  };
}
