/**
 * Producer times ahead of the engine's clock. A future `as_of` has a negative age, so it would count
 * as fresh, pass every staleness rule and keep doing so until the future arrives; a future
 * `created_at` would extend a snapshot's life the same way. A risk system must not trust either: an
 * input dated past the allowed clock skew is refused with a recorded rejection that names the field
 * (and keeps the raw event, so a producer fixing its clock can have it redriven).
 */

/** Clock skew a producer may have: AWS itself accepts request times up to 5 minutes off (SigV4). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** One reason per time set beyond `nowMs + skewMs`, naming its field; empty when none is. */
export function futureDatedReasons(
  fields: Record<string, string | undefined>,
  nowMs: number,
  skewMs = MAX_FUTURE_SKEW_MS,
): string[] {
  const reasons: string[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const ahead = Date.parse(value) - nowMs;
    if (ahead > skewMs)
      reasons.push(
        `${field}: ${value} is ${Math.round(ahead / 1000)} s ahead of the engine's clock (${new Date(nowMs).toISOString()}); at most ${skewMs / 1000} s of clock skew is allowed, and a future-dated time would count as fresh`,
      );
  }
  return reasons;
}
