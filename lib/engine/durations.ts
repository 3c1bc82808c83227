import { OpsValidationError } from './ops-errors.js';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `90s`, `15m`, `2h`, `1d`, `1h30m`, `1w` into milliseconds; throws naming the flag otherwise. */
export function parseDuration(raw: string, field = 'for'): number {
  const text = raw.trim().toLowerCase();
  if (!/^(\d+(\.\d+)?[smhdw])+$/.test(text)) {
    throw new OpsValidationError(
      field,
      `'${raw}' is not a duration; use a number and a unit (s, m, h, d, w), e.g. 30m, 2h, 1d, 1h30m`,
    );
  }
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)) ms += Number(n) * UNITS[unit!]!;
  if (ms <= 0) throw new OpsValidationError(field, `'${raw}' must be longer than zero`);
  return Math.round(ms);
}

/** A duration for people: `1d2h`, `45m`, `30s`. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.length > 0 ? parts.join('') : '0s';
}

/**
 * Parses a point in time: an ISO date-time (`2025-03-10T21:00:00Z`), a date (`2025-03-10`, UTC
 * midnight), `now`, or a duration meaning that long ago (`2h`, for `--since`).
 */
export function parseTime(raw: string, nowMs: number, field: string): number {
  const text = raw.trim();
  if (text === 'now') return nowMs;
  if (/^\d+(\.\d+)?[smhdw]/i.test(text)) return nowMs - parseDuration(text, field);
  return parseInstant(raw, field, 'or a duration ago (2h, 1d)');
}

/**
 * Parses an ISO date-time (`2025-03-10T21:00:00Z`) or a date (`2025-03-10`, UTC midnight). A date
 * that does not exist (`2025-02-30`, hour 24) is refused naming the field, never rolled over.
 */
export function parseInstant(raw: string, field: string, alsoAccepted?: string): number {
  const text = raw.trim();
  assertRealDate(raw, field);
  const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
  const ms = iso.test(text)
    ? Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text)
    : Number.NaN;
  if (!Number.isFinite(ms)) {
    const forms = alsoAccepted
      ? `an ISO date-time (2025-03-10T21:00:00Z), a date (2025-03-10), ${alsoAccepted}`
      : 'an ISO date-time (2025-03-10T21:00:00Z) or a date (2025-03-10)';
    throw new OpsValidationError(field, `'${raw}' is not a time; use ${forms}`);
  }
  return ms;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Refuses calendar dates that do not exist (`2025-02-30`, hour 24), which Date.parse would roll over. */
function assertRealDate(raw: string, field: string): void {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(raw.trim());
  if (!m) return;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const leap = (y! % 4 === 0 && y! % 100 !== 0) || y! % 400 === 0;
  const days = mo === 2 && !leap ? 28 : (DAYS_IN_MONTH[mo! - 1] ?? 0);
  const bad =
    mo! < 1 || mo! > 12
      ? `month ${String(mo).padStart(2, '0')} does not exist`
      : d! < 1 || d! > days
        ? `${y}-${String(mo).padStart(2, '0')} has no day ${d} (it has ${days})`
        : (h ?? 0) > 23 || (mi ?? 0) > 59 || (s ?? 0) > 59
          ? 'the time of day is out of range'
          : undefined;
  if (bad) throw new OpsValidationError(field, `'${raw}' is not a real date: ${bad}`);
}
