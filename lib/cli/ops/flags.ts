import { type OpsError, parseDuration, parseTime } from '#lib/engine/ops.js';
import { UsageError } from '../args.js';

/** The flags every ops command takes: output format and target. */
export const commonFlags = {
  json: { type: 'boolean' },
  stack: { type: 'string' },
  region: { type: 'string' },
  endpoints: { type: 'string' },
} as const;

export type CommonValues = { json?: boolean; stack?: string; region?: string; endpoints?: string };

/** Runs a parser from the ops service, turning its validation error into a usage error on the flag. */
export function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if ((error as OpsError).name?.startsWith('Ops'))
      throw new UsageError((error as Error).message.replace(/^(\w+):/, '--$1:'));
    throw error;
  }
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Refuses calendar dates that do not exist (`2025-02-30`, hour 25), which Date.parse would roll over. */
function assertRealDate(flag: string, raw: string): void {
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
  if (bad) throw new UsageError(`--${flag}: '${raw}' is not a real date: ${bad}`);
}

/** `--since`-style time: an ISO date(-time), `now`, or a duration meaning that long ago (`2h`). */
export function sinceFlag(flag: string, raw: string, nowMs: number): number {
  assertRealDate(flag, raw);
  return asUsage(() => parseTime(raw, nowMs, flag));
}

/**
 * `--until`: an ISO date(-time) or `+2h` (that long from now). A bare duration would mean that long
 * *ago*, which is never what a mute wants, so it is refused with the two spellings that work.
 */
export function untilFlag(flag: string, raw: string, nowMs: number): number {
  const text = raw.trim();
  if (text.startsWith('+')) return nowMs + asUsage(() => parseDuration(text.slice(1), flag));
  if (/^\d+(\.\d+)?[smhdw]/i.test(text))
    throw new UsageError(
      `--${flag}: '${raw}' reads as ${text} ago, which is in the past; for a time from now write --${flag} +${text} (or --for ${text})`,
    );
  if (text.startsWith('-'))
    throw new UsageError(`--${flag}: '${raw}' is in the past; give a future time, e.g. +2h or an ISO time`);
  assertRealDate(flag, raw);
  return asUsage(() => parseTime(raw, nowMs, flag));
}

/** A positive whole number flag, or the fallback. */
export function countFlag(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${flag}: must be a whole number >= 1 (got '${raw}')`);
  return n;
}
