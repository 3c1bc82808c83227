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

/** `--since`-style time: an ISO date(-time), `now`, or a duration meaning that long ago (`2h`). */
export function sinceFlag(flag: string, raw: string, nowMs: number): number {
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
